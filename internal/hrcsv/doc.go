// Package hrcsv exports an HR system's CSV file (its own headers, its own
// conventions) into an archive through the mapping language of package
// mapping ([csv] and [mapping] in epic.toml).
//
// It must never publish an archive of a file it could not read whole: a
// parse error, a missing header, invalid text or a duplicate person stops
// the export with an error naming the line.
package hrcsv
