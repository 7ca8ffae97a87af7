// The page is served on 127.0.0.1:5173 in development and in the browser
// test: the origin Envoy's CORS allow-list names by default.
import { defineConfig } from "vite";

export default defineConfig({
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 5173, strictPort: true },
  build: { target: "es2022" },
});
