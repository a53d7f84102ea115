import { randomUUID } from "node:crypto";
import { ErrorCodes } from "@gateway/protocol";
import { ProtocolError } from "../errors.js";

/** A connected node: who it is and what it declared in `connect`. */
export interface ConnectedNode {
  readonly nodeId: string;
  readonly connectionId: string;
  readonly displayName: string | undefined;
  readonly platform: string | undefined;
  readonly version: string | undefined;
  readonly caps: readonly string[];
  readonly commands: readonly string[];
  readonly connectedAtMs: number;
}

/** What a node answered to an invoke. */
export interface NodeAnswer {
  ok: boolean;
  payload?: unknown;
  error?: { code?: string; message?: string };
}

interface PendingInvoke {
  readonly nodeId: string;
  readonly connectionId: string;
  readonly command: string;
  resolve(answer: NodeAnswer): void;
  reject(error: ProtocolError): void;
  readonly timer: NodeJS.Timeout;
}

/** The longest an invoke may wait for its node. */
export const NODE_INVOKE_MAX_TIMEOUT_MS = 10 * 60_000;
/** An invoke's wait when the caller gives none. */
export const NODE_INVOKE_DEFAULT_TIMEOUT_MS = 30_000;

const unavailable = (message: string, code: string, extra: Record<string, unknown> = {}) =>
  new ProtocolError(ErrorCodes.UNAVAILABLE, message, { details: { code, ...extra } });

/**
 * Connected nodes and the invokes waiting for them. A node's declaration is taken during its handshake and becomes
 * a connected node once the handshake completes; a node that disconnects fails its pending invokes at once (the
 * caller is told, not left to time out). A newer connection of the same node replaces the older one.
 */
export class NodeRegistry {
  readonly #declared = new Map<string, ConnectedNode>();
  readonly #byNode = new Map<string, ConnectedNode>();
  readonly #invokes = new Map<string, PendingInvoke>();

  /** What a node declared in its `connect` (before `hello-ok`). */
  declare(node: ConnectedNode): void {
    this.#declared.set(node.connectionId, node);
    if (this.#declared.size > 1024) this.#declared.delete(this.#declared.keys().next().value!);
  }

  /** The handshake of `connectionId` completed: its node is connected. */
  connected(connectionId: string): ConnectedNode | undefined {
    const node = this.#declared.get(connectionId);
    if (!node) return undefined;
    this.#declared.delete(connectionId);
    this.#byNode.set(node.nodeId, node);
    return node;
  }

  /** A connection closed: its node is gone and what it was running fails. */
  disconnected(connectionId: string): ConnectedNode | undefined {
    this.#declared.delete(connectionId);
    for (const [id, invoke] of this.#invokes) {
      if (invoke.connectionId !== connectionId) continue;
      this.#settle(id);
      invoke.reject(
        unavailable(`node ${invoke.nodeId} disconnected while running ${invoke.command}`, "NODE_DISCONNECTED", {
          nodeCommandDispatched: true,
        }),
      );
    }
    for (const node of this.#byNode.values()) {
      if (node.connectionId !== connectionId) continue;
      this.#byNode.delete(node.nodeId);
      return node;
    }
    return undefined;
  }

  get(nodeId: string): ConnectedNode | undefined {
    return this.#byNode.get(nodeId);
  }

  list(): ConnectedNode[] {
    return [...this.#byNode.values()];
  }

  /**
   * Send a command to a connected node (through `send`) and wait for its `node.invoke.result`, at most `timeoutMs`.
   * Rejects with UNAVAILABLE when the node is not connected, disconnects, or does not answer in time.
   */
  invoke(
    node: ConnectedNode,
    command: string,
    timeoutMs: number,
    send: (invokeId: string) => void,
    signal?: AbortSignal,
  ): Promise<NodeAnswer> {
    const id = randomUUID();
    return new Promise<NodeAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(id);
        reject(unavailable(`node ${node.nodeId} did not answer ${command} within ${timeoutMs} ms`, "TIMEOUT"));
      }, timeoutMs);
      timer.unref();
      this.#invokes.set(id, { nodeId: node.nodeId, connectionId: node.connectionId, command, resolve, reject, timer });
      signal?.addEventListener(
        "abort",
        () => {
          if (!this.#settle(id)) return;
          reject(unavailable(`${command} on node ${node.nodeId} was cancelled`, "CANCELLED"));
        },
        { once: true },
      );
      try {
        send(id);
      } catch (error) {
        this.#settle(id);
        reject(unavailable(`could not send ${command} to node ${node.nodeId}: ${(error as Error).message}`, "SEND"));
      }
    });
  }

  /** A node answered: true when the answer was for a pending invoke of that very connection. */
  answer(connectionId: string, invokeId: string, answer: NodeAnswer): boolean {
    const invoke = this.#invokes.get(invokeId);
    if (!invoke || invoke.connectionId !== connectionId) return false;
    this.#settle(invokeId);
    invoke.resolve(answer);
    return true;
  }

  /** Invokes still waiting (for health and tests). */
  get pendingInvokes(): number {
    return this.#invokes.size;
  }

  #settle(id: string): boolean {
    const invoke = this.#invokes.get(id);
    if (!invoke) return false;
    clearTimeout(invoke.timer);
    this.#invokes.delete(id);
    return true;
  }

  /** Fail everything still waiting (shutdown). */
  close(): void {
    for (const [id, invoke] of this.#invokes) {
      this.#settle(id);
      invoke.reject(unavailable("the gateway is shutting down", "SHUTDOWN"));
    }
  }
}
