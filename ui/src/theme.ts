// Light, dark, or as the system says: a choice of this desktop, kept in the window's storage.
// The page always carries the theme in effect as `data-theme`, which the stylesheet reads.

export type Theme = "system" | "light" | "dark";

const KEY = "stopline.theme";

export function savedTheme(): Theme {
  const saved = window.localStorage.getItem(KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
}

function systemIsDark(): boolean {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

/** Applies a theme to the page and remembers the choice. */
export function applyTheme(theme: Theme): void {
  const dark = theme === "dark" || (theme === "system" && systemIsDark());
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  if (theme === "system") window.localStorage.removeItem(KEY);
  else window.localStorage.setItem(KEY, theme);
}

/** Follows the system's theme while the choice is "system". */
export function followSystemTheme(): void {
  window
    .matchMedia?.("(prefers-color-scheme: dark)")
    .addEventListener?.("change", () => applyTheme(savedTheme()));
}
