// Package vectors holds the vector datasets the Chroma driver
// (runner/chroma) inserts and queries, and their exact nearest neighbours.
//
// A Set is a base set of vectors (ids are their indexes), a query set, and
// optional integer metadata fields used by `where` filters. It is made
// synthetically (Synthetic: uniform or normal coordinates, optionally
// clustered, seeded) or read from files in the SIFT formats (.fvecs,
// .ivecs, .bvecs: ReadFvecs, ReadIvecs, ReadBvecs). GroundTruth computes
// the exact k nearest neighbours of every query by brute force, in
// parallel, and caches them on disk under the set's Hash, so recall
// (Recall: id-based, |returned ∩ true top-k| / k, as VectorDBBench counts
// it) is judged against benchrun's own computation.
//
// Data flow: package ci builds a Set from a case's [benchmark.dataset]
// table (validated by package suites) and hands it to the Chroma driver.
package vectors
