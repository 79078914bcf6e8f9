/**
 * Where this node's http sources listen, by pipeline: the agent registers a task's http source (bound to
 * 127.0.0.1, port 0) once it is open and removes it when the task stops; the API's ingest route sends a
 * pipeline's requests there. Only the node running a pipeline's task has its entry.
 */
export class IngestTargets {
  private readonly addresses = new Map<string, string>();

  /** `address`: the source's bound `host:port`. */
  set(pipeline: string, address: string): void {
    this.addresses.set(pipeline, address);
  }

  delete(pipeline: string): void {
    this.addresses.delete(pipeline);
  }

  get(pipeline: string): string | undefined {
    return this.addresses.get(pipeline);
  }
}
