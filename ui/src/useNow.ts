import { useEffect, useState } from "react";

/** The time now, renewed at each turn of the second while `ticking`: for figures that grow with
 *  time, such as the loss so far. Every user ticks at the same turn of the second, so the queue
 *  and the open incident show the same figure for the same loss. */
export function useNow(ticking = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!ticking) return;
    let timer = 0;
    const untilNextSecond = () => 1000 - (Date.now() % 1000);
    const tick = () => {
      setNow(new Date());
      timer = window.setTimeout(tick, untilNextSecond());
    };
    timer = window.setTimeout(tick, untilNextSecond());
    return () => window.clearTimeout(timer);
  }, [ticking]);
  return now;
}
