// Package chroma drives a Chroma vector database through its HTTP API v2
// (docs/metrics.md, REFERENCE §5): collection lifecycle (get-or-create
// with HNSW settings, count, delete), batched adds and upserts that never
// exceed the server's max_batch_size, and kNN queries with an optional
// `where` filter whose recall@k is judged against the exact neighbours of
// runner/vectors.
//
// Three runner.Drivers build on one Client: Loader (workload "load": one
// operation per batch inserted, then a check that the last vectors are
// queryable and the collection holds them all), Querier (workload
// "query": one operation per query, drawn from the whole query set in a
// seeded order) and, with a Writer running beside it, workload "mixed".
// A failed operation is a sample with an error class; setup failures
// (the collection cannot be created, holds other settings, another
// number of vectors or, read back in a sample of records, other vectors
// than the set's: Client.Verify) are Go errors that make the case an
// error.
//
// Data flow: package ci builds the Client from a case's validated tables
// and a runner/vectors Set; samples go through runner/results.
package chroma
