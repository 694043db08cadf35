import { useState } from "react";

/** Copies `text`; says whether it worked, or to copy by hand. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [said, setSaid] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        onClick={() =>
          (navigator.clipboard?.writeText(text) ?? Promise.reject(new Error("no clipboard"))).then(
            () => setSaid("Copied."),
            () => setSaid("Cannot copy here: select it and copy it."),
          )
        }
      >
        {label}
      </button>
      {said && (
        <span role="status" className="hint">
          {" "}
          {said}
        </span>
      )}
    </>
  );
}
