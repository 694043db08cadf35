import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "./styles.css";
import { applyTheme, followSystemTheme, savedTheme } from "./theme";

// Before the first paint, so a dark desktop never flashes light.
applyTheme(savedTheme());
followSystemTheme();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
