/** One page of a list, as the protocol's list results describe it. */
export function page<T>(all: readonly T[], offset = 0, limit: number) {
  return {
    items: all.slice(offset, offset + limit),
    total: all.length,
    offset,
    limit,
    hasMore: offset + limit < all.length,
  };
}
