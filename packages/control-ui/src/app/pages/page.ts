import type { Connection } from "../connection.js";

/** What a page gets. */
export interface PageContext {
  connection: Connection;
}

/** A page of the app: built once, refreshed on reconnect and after missed events, disposed when left. */
export interface Page {
  readonly element: HTMLElement;
  refresh(): void | Promise<void>;
  dispose(): void;
}

/** A page's entry in the navigation. */
export interface PageDefinition {
  id: string;
  title: string;
  create(context: PageContext): Page;
}
