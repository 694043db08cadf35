import { useMemo, useState } from "react";
import { errorMessage, exportReport, fetchPayrollCsv, fetchReport, type ReportQuery } from "./api";
import type { ApplicationReportView, ExportFormatText, ExportedView, ReportView } from "./bindings";
import { ChartCanvas } from "./ChartCanvas";
import { availabilityChart, costChart, restoreChart } from "./charts";
import { money, moneyToThePenny } from "./queue";
import { day } from "./time";
import { useLoad, valueOf } from "./useLoad";

/** `YYYY-MM-DD` for a date input, in this computer's zone. */
export function dateInput(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** A whole number of seconds as people read it: `2h 10m`, `45m`, `30s`. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function whole(amount: number, currency: string): string {
  return money(Math.round(amount), currency);
}

/**
 * What on-call costs each team and what outages lose: costs per team stacked by application,
 * availability against target, time to restore over time, pay per person, revenue insurance.
 */
export function Reports({ version }: { version: number }) {
  const today = new Date();
  const [from, setFrom] = useState(() => dateInput(new Date(today.getTime() - 28 * 86_400_000)));
  const [to, setTo] = useState(() => dateInput(new Date(today.getTime() + 86_400_000)));
  const [team, setTeam] = useState("");
  const [query, setQuery] = useState<ReportQuery | null>(null);
  const [csv, setCsv] = useState<string | null>(null);
  // What asking for the CSV ran into; a report that failed is in `state`.
  const [csvProblem, setCsvProblem] = useState<string | null>(null);
  const [exported, setExported] = useState<ExportedView | null>(null);

  const current = (): ReportQuery => ({
    // Midnight of each day, in this computer's zone.
    from: new Date(`${from}T00:00`).toISOString(),
    to: new Date(`${to}T00:00`).toISOString(),
    team: team === "" ? null : team,
  });
  // The period is read when asked (Show), not on every keystroke: the fields are not deps.
  const { state } = useLoad(() => fetchReport(query ?? current()), [query, version]);
  // A report that fails keeps the last one on screen, with the reason above it.
  const data = valueOf(state);
  const problem = csvProblem ?? (state.kind === "failed" ? state.message : null);

  const charts = useMemo(
    () =>
      data && {
        cost: costChart(data.teams, data.currency),
        availability: availabilityChart(data.applications),
        restore: restoreChart(data.restores, data.from, data.to),
      },
    [data],
  );

  const valid = from !== "" && to !== "" && from < to;
  return (
    <section aria-labelledby="reports-title" className="reports">
      <h2 id="reports-title" className="section-title">
        Reports
      </h2>
      <form
        className="report-query"
        onSubmit={(event) => {
          event.preventDefault();
          setCsv(null);
          setCsvProblem(null);
          setQuery(current());
        }}
      >
        <label>
          From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>{" "}
        <label>
          To (not included) <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>{" "}
        <label>
          Team{" "}
          <select value={team} onChange={(e) => setTeam(e.target.value)}>
            <option value="">all teams</option>
            {data?.all_teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>{" "}
        <button type="submit" disabled={!valid}>
          Show
        </button>{" "}
        <button
          type="button"
          onClick={() => {
            setCsvProblem(null);
            fetchPayrollCsv(query ?? current()).then(setCsv, (error) =>
              setCsvProblem(errorMessage(error)),
            );
          }}
        >
          Payroll CSV
        </button>{" "}
        {(["markdown", "csv"] as ExportFormatText[]).map((format) => (
          <button
            key={format}
            type="button"
            onClick={() => {
              setCsvProblem(null);
              setExported(null);
              exportReport(query ?? current(), format).then(setExported, (error) =>
                setCsvProblem(errorMessage(error)),
              );
            }}
          >
            {format === "markdown" ? "Export Markdown" : "Export CSV files"}
          </button>
        ))}
        {!valid && <span role="alert"> The end must be after the start.</span>}
      </form>
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
      {csv !== null && <PayrollCsv csv={csv} onClose={() => setCsv(null)} />}
      {exported && (
        <div className="banner notice" role="status" data-exported={exported.folder}>
          Written to <code>{exported.folder}</code>:
          <ul>
            {exported.files.map((file) => (
              <li key={file}>
                <code>{file.slice(exported.folder.length + 1)}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {!data && !problem && <p className="state">Working out the report…</p>}
      {data && charts && (
        <>
          <p className="hint">
            From {day(data.from)} to {day(data.to)} (not included). The same report on the command
            line: <code>stopline report --from … --to … --format markdown|json|csv</code>.
          </p>
          {data.warnings.length > 0 && (
            <ul className="banner notice warnings" aria-label="Warnings">
              {data.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <div className="charts">
            <ChartCanvas config={charts.cost} label="On-call cost per team, stacked by application" />
            <ChartCanvas config={charts.availability} label="Unavailability budget used per application" />
            {data.restores.length > 0 ? (
              <ChartCanvas config={charts.restore} label="Time to restore of each incident over time" />
            ) : (
              <p className="chart state">No incident was restored in this period.</p>
            )}
          </div>
          <CostTable data={data} />
          <ApplicationTable data={data} />
          <PeopleTable data={data} />
        </>
      )}
    </section>
  );
}

function PayrollCsv({ csv, onClose }: { csv: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <div className="csv">
      <label htmlFor="payroll-csv">Pay per person, as CSV for payroll</label>
      <textarea id="payroll-csv" readOnly value={csv} rows={Math.min(12, csv.split("\n").length + 1)} />
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(csv).then(
            () => setCopied("Copied."),
            () => setCopied("Cannot copy here: select the text and copy it."),
          )
        }
      >
        Copy
      </button>{" "}
      <button type="button" onClick={onClose}>
        Close
      </button>
      {copied && <span role="status"> {copied}</span>}
    </div>
  );
}

function CostTable({ data }: { data: ReportView }) {
  const c = data.currency;
  return (
    <>
      <h3>On-call cost per team</h3>
      {data.teams.length === 0 ? (
        <p className="state">No rota cost anything in this period.</p>
      ) : (
        <table className="incidents" data-report="costs">
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col">Pay model</th>
              <th scope="col">Standby</th>
              <th scope="col">Callout</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {data.teams.map((t) => (
              <tr key={t.team} data-team={t.team}>
                <td>{t.team_name}</td>
                <td>{t.pay_model}</td>
                <td>{whole(t.standby, c)}</td>
                <td>{whole(t.callout, c)}</td>
                <td data-total>{whole(t.total, c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function ApplicationTable({ data }: { data: ReportView }) {
  const c = data.currency;
  return (
    <>
      <h3>Availability, time to restore and revenue insurance</h3>
      <table className="incidents" data-report="applications">
        <thead>
          <tr>
            <th scope="col">Application</th>
            <th scope="col">Target</th>
            <th scope="col">Availability</th>
            <th scope="col">Weeks met</th>
            <th scope="col">TTA median</th>
            <th scope="col">TTR median</th>
            <th scope="col">TTR p90</th>
            <th scope="col">Projected loss</th>
            <th scope="col" title="Each incident's loss: a figure a person entered, else exposure × the time from its opening until its alerts cleared or it resolved">
              Actual loss
            </th>
            <th scope="col">Effectiveness</th>
            <th scope="col">On-call cost</th>
            <th scope="col">Operating model</th>
          </tr>
        </thead>
        <tbody>
          {data.applications.map((a) => (
            <tr key={a.application} data-application={a.application}>
              <td>{a.name}</td>
              <td>{a.target_percent}%</td>
              <td className={a.budget_used_percent > 100 ? "missed" : undefined}>
                {a.availability_percent.toFixed(3)}%
              </td>
              <td>
                {a.weeks_met}/{a.weeks}
              </td>
              <td>{duration(a.tta_median_seconds)}</td>
              <td>{duration(a.ttr_median_seconds)}</td>
              <td>{duration(a.ttr_p90_seconds)}</td>
              <td>{whole(a.projected_loss, c)}</td>
              <td>{whole(a.actual_loss, c)}</td>
              <td className="effectiveness">
                {a.effectiveness === null ? "—" : `${Math.round(a.effectiveness * 100)} %`}
                <small>{effectivenessSentence(a, c)}</small>
              </td>
              <td>{whole(a.on_call_cost, c)}</td>
              <td title={a.fit_advice}>{a.fit_model}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="state-note">
        Actual loss counts each incident from its opening until its alerts cleared or it resolved,
        whichever came first; a figure a person entered with a severity change replaces it.
      </p>
    </>
  );
}

/** What the effectiveness figure means for this application, in a sentence: how much of the
 *  loss its target allows production support kept from being lost, or by how much outages went
 *  over it. */
export function effectivenessSentence(a: ApplicationReportView, currency: string): string {
  if (a.effectiveness === null) {
    return "No projection to compare with: its target tolerates no unavailability, or it has no exposure.";
  }
  const projected = whole(a.projected_loss, currency);
  if (a.effectiveness >= 0) {
    return `Outages lost ${whole(a.actual_loss, currency)} of the ${projected} its target allows: production support kept ${whole(a.projected_loss - a.actual_loss, currency)} from being lost.`;
  }
  return `Negative: outages lost ${whole(a.actual_loss, currency)}, ${whole(a.actual_loss - a.projected_loss, currency)} more than the ${projected} its target allows.`;
}

function PeopleTable({ data }: { data: ReportView }) {
  return (
    <>
      <h3>Pay per person</h3>
      {data.people.length === 0 ? (
        <p className="state">Nobody was on call in this period.</p>
      ) : (
        <table className="incidents" data-report="people">
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Standby hours</th>
              <th scope="col">Out-of-hours callouts</th>
              <th scope="col">Callout hours</th>
              <th scope="col">Pay</th>
            </tr>
          </thead>
          <tbody>
            {data.people.map((p) => (
              <tr key={p.person} data-person={p.person}>
                <td>{p.name}</td>
                <td>{p.standby_hours.toFixed(1)}</td>
                <td>{p.callouts}</td>
                <td>{p.callout_hours.toFixed(1)}</td>
                <td>{moneyToThePenny(p.total, data.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
