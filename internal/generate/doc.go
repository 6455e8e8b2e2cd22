// Package generate writes realistic synthetic ZipSync archives: sites in
// several countries and time zones, people with one to four devices of
// mixed types, their custom values, and on-call groups with shifts and
// memberships. The data fits a company with the default configuration
// (interfaces.md §2) and validates with no finding.
//
// Output is a pure function of the seed, the number of people, the
// archive version and the variant percents: the same inputs give
// byte-identical files. A variant (Options.ChangePercent, AddPercent,
// DropPercent) is "the next night's" archive of the same company: some
// people changed, some appended, some left out, chosen by index
// arithmetic so that no set of people is held. Everything
// about person i is derived from (seed, i) by a private random stream,
// and everything about group g from (seed, g), so each file is written by
// walking the indexes again. The package never holds all people (or all
// groups) in memory: its memory use does not grow with the number of
// people, which is what lets it write a million-person archive.
package generate
