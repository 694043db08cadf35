import type { ReactNode } from "react";
import type { StoppedLine } from "./bindings";
import { clock, when } from "./time";

/** "Payments line STOPPED since 02:07 by INC-1 — deploys get 423": one per stopped line. */
export function LineBanner({ line, children }: { line: StoppedLine; children?: ReactNode }) {
  return (
    <p className="banner line-banner" role="status" data-line={line.team}>
      <strong>
        {line.team_name} line STOPPED
      </strong>
      {line.since && (
        <>
          {" "}
          since <time dateTime={line.since} title={when(line.since)}>{clock(line.since)}</time>
        </>
      )}
      {line.incidents.length > 0 && <> by {line.incidents.join(", ")}</>} — deploys of feature work
      get 423 until it restarts.
      {children}
    </p>
  );
}
