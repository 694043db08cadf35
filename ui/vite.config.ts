import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The desktop shell loads ui/dist through Tauri's custom protocol; no dev server is involved.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK on Debian 12 and later.
    target: "safari15",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
  },
});
