// The canvas host over real HTTP: what it serves and how, and every way out of the root it refuses.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type CanvasHost, createCanvasHost } from "../src/index.js";
import { rawGet, tempDir } from "./helpers.js";

describe("the canvas host", () => {
  const outside = tempDir("canvas-outside-");
  const root = tempDir("canvas-root-");
  let host: CanvasHost;
  let port = 0;

  beforeAll(async () => {
    writeFileSync(join(outside.path, "secret.txt"), "the gateway token");
    mkdirSync(join(outside.path, "dir"));
    writeFileSync(join(outside.path, "dir", "index.html"), "<p>outside</p>");
    writeFileSync(join(root.path, "index.html"), "<!doctype html><html><body><h1>hello</h1></body></html>");
    writeFileSync(join(root.path, "app.js"), "console.log(1)");
    writeFileSync(join(root.path, "style.css"), "h1{}");
    writeFileSync(join(root.path, "data.bin"), Buffer.from([0, 1, 2]));
    writeFileSync(join(root.path, ".env"), "SECRET=1");
    writeFileSync(join(root.path, "big.txt"), "x".repeat(2048));
    mkdirSync(join(root.path, "sub"));
    writeFileSync(join(root.path, "sub", "page.html"), "<p>fragment</p>");
    symlinkSync(join(outside.path, "secret.txt"), join(root.path, "leak.txt"));
    symlinkSync(join(outside.path, "dir"), join(root.path, "leakdir"));
    symlinkSync(join(root.path, "app.js"), join(root.path, "alias.js"));
    host = createCanvasHost({ root: root.path, port: 0, maxFileBytes: 1024 });
    port = (await host.listen()).port;
  });

  afterAll(async () => {
    await host.close();
    await host.close();
    root.remove();
    outside.remove();
  });

  it("serves files with their content type, nosniff and no caching", async () => {
    const js = await rawGet(port, "/app.js");
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["x-content-type-options"]).toBe("nosniff");
    expect(js.headers["cache-control"]).toBe("no-cache");
    expect(js.body).toBe("console.log(1)");
    expect((await rawGet(port, "/style.css")).headers["content-type"]).toBe("text/css; charset=utf-8");
    expect((await rawGet(port, "/data.bin")).headers["content-type"]).toBe("application/octet-stream");
    const head = await rawGet(port, "/app.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("14");
    expect(head.body).toBe("");
  });

  it("serves a folder's index.html with the live-reload script injected before </body>", async () => {
    const page = await rawGet(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toBe(
      '<!doctype html><html><body><h1>hello</h1><script src="/__gateway__/live-reload.js"></script>\n</body></html>',
    );
    expect((await rawGet(port, "/sub/page.html")).body).toContain('<p>fragment</p>\n<script src="/__gateway__/');
    const script = await rawGet(port, "/__gateway__/live-reload.js");
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.body).toContain("location.reload()");
  });

  it("serves the same files under the reference's /__openclaw__/canvas/ path, with the same refusals", async () => {
    expect((await rawGet(port, "/__openclaw__/canvas/app.js")).body).toBe("console.log(1)");
    expect((await rawGet(port, "/__openclaw__/canvas/")).body).toContain("<h1>hello</h1>");
    expect((await rawGet(port, "/__openclaw__/canvas")).body).toContain("<h1>hello</h1>");
    expect((await rawGet(port, "/__openclaw__/canvas/..%2fsecret.txt")).status).toBe(403);
    expect((await rawGet(port, "/__openclaw__/canvas/leak.txt")).status).toBe(403);
  });

  it("follows a symlink that stays inside the root", async () => {
    expect((await rawGet(port, "/alias.js")).body).toBe("console.log(1)");
  });

  it.each([
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/sub/%2E%2E/%2e%2e/secret.txt",
    "/sub/..%5c..%5csecret.txt",
  ])("refuses the traversal %s", async (path) => {
    const response = await rawGet(port, path);
    expect([400, 403]).toContain(response.status);
    expect(response.body).not.toContain("the gateway token");
  });

  it("refuses a symlink to a file or a folder outside the root (403, said why)", async () => {
    for (const path of ["/leak.txt", "/leakdir/", "/leakdir/index.html"]) {
      const response = await rawGet(port, path);
      expect(response.status).toBe(403);
      expect(response.body).toBe("a symlink leads out of the canvas root\n");
    }
  });

  it("refuses bad encodings, hidden files, missing files and files over the size cap", async () => {
    expect((await rawGet(port, "/%E0%A4%A")).status).toBe(400);
    expect((await rawGet(port, "/a%00b")).status).toBe(400);
    expect((await rawGet(port, "/.env")).status).toBe(404);
    expect((await rawGet(port, "/nope.js")).status).toBe(404);
    const big = await rawGet(port, "/big.txt");
    expect(big.status).toBe(413);
    expect(big.body).toContain("canvasHost.maxFileBytes (1024 bytes)");
  });

  it("applies the gateway's Host and Origin rules", async () => {
    const rebinding = await rawGet(port, "/", { host: `evil.example:${port}` });
    expect(rebinding.status).toBe(403);
    expect(rebinding.body).toContain("DNS-rebinding guard");
    const foreign = await rawGet(port, "/app.js", { origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("Origin http://evil.example is not allowed");
    const own = await rawGet(port, "/app.js", { origin: `http://127.0.0.1:${port}` });
    expect(own.status).toBe(200);
  });

  it("pushes a reload to an open live-reload socket when a file changes, once per burst", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/__gateway__/live-reload`);
    const messages: string[] = [];
    socket.on("message", (data) => messages.push(String(data)));
    await new Promise((resolve) => socket.once("open", resolve));
    await eventually(() => expect(host.liveReloadListeners).toBe(1));
    writeFileSync(join(root.path, "app.js"), "console.log(2)");
    writeFileSync(join(root.path, "style.css"), "h1{color:red}");
    await eventually(() => expect(messages).toEqual(['{"type":"reload"}']));
    socket.close();
    await eventually(() => expect(host.liveReloadListeners).toBe(0));
  });

  it("refuses a live-reload socket from a foreign page", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/__gateway__/live-reload`, {
      headers: { origin: "http://evil.example" },
    });
    const status = await new Promise<number>((resolve) =>
      socket.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0)),
    );
    expect(status).toBe(403);
  });
});

describe("a canvas host with many pages open", () => {
  it("closes live-reload sockets beyond its cap with 1013, and keeps the others", async () => {
    const root = tempDir("canvas-many-");
    const host = createCanvasHost({ root: root.path, port: 0, maxLiveReloadPages: 2 });
    const { port } = await host.listen();
    const open = () => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/__gateway__/live-reload`);
      const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
      return { socket, closed };
    };
    try {
      const pages = [open(), open()];
      await eventually(() => expect(host.liveReloadListeners).toBe(2));
      const third = open();
      expect(await third.closed).toBe(1013);
      expect(host.liveReloadListeners).toBe(2);
      for (const page of pages) page.socket.close();
    } finally {
      await host.close();
      root.remove();
    }
  });
});

describe("a canvas host without files", () => {
  it("creates its root 0700 and shows a placeholder page", async () => {
    const parent = tempDir("canvas-empty-");
    const host = createCanvasHost({ root: join(parent.path, "canvas"), port: 0 });
    try {
      const { port, url } = await host.listen();
      expect(url).toBe(`http://127.0.0.1:${port}`);
      const { statSync } = await import("node:fs");
      expect(statSync(join(parent.path, "canvas")).mode & 0o777).toBe(0o700);
      const page = await rawGet(port, "/");
      expect(page.status).toBe(200);
      expect(page.body).toContain("Nothing on the canvas yet");
    } finally {
      await host.close();
      parent.remove();
    }
  });

  it("says which port is taken", async () => {
    const parent = tempDir("canvas-busy-");
    const first = createCanvasHost({ root: parent.path, port: 0 });
    const { port } = await first.listen();
    const second = createCanvasHost({ root: parent.path, port });
    await expect(second.listen()).rejects.toThrow(`canvas host: port ${port} on 127.0.0.1 is already in use`);
    await first.close();
    parent.remove();
  });
});
