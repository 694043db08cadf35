import { useEffect, useState } from "react";

/** The time now, renewed every second while `ticking`: for figures that grow with time, such as
 *  the loss so far. */
export function useNow(ticking = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!ticking) return;
    const timer = window.setInterval(() => setNow(new Date()), 1000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return now;
}
