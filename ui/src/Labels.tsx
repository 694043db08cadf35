/** An alert's labels as chips, its name (`alertname`) left out: it is shown as the title. */
export function LabelList({ labels }: { labels: Record<string, string> }) {
  return (
    <div className="labels" aria-label="Labels">
      {Object.entries(labels)
        .filter(([k]) => k !== "alertname")
        .map(([k, v]) => (
          <code key={k} className="label">
            {k}={v}
          </code>
        ))}
    </div>
  );
}
