/** The job named by `id` or `jobId` (both spellings are in the protocol). */
export const jobIdOf = (params: { id?: string; jobId?: string }) => (params.id ?? params.jobId)!;
