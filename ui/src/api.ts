// Calls into the Rust side. Types come from bindings.ts, generated from src-tauri/src/dto.rs.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { CommandError, Overview } from "./bindings";

export function fetchOverview(): Promise<Overview> {
  return invoke<Overview>("overview");
}

/** Calls `onChange` whenever the engine in this app changed the store (batched by the engine). */
export function onStoreChanged(onChange: () => void): Promise<UnlistenFn> {
  return listen("store-changed", () => onChange());
}

/** A readable message from whatever a failed invoke rejected with. */
export function errorMessage(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error) {
    return String((error as CommandError).message);
  }
  return String(error);
}
