// Package mapping is the small language that turns a source's records
// (LDAP entries, HR CSV rows, SQL rows) into the rows of a ZipSync
// archive: templates such as "{givenName} {sn}" or
// "{mobile:phone|telephoneNumber:phone}" per DS column ([mapping] in
// epic.toml), a Mapper that applies them to one record, and a Builder that
// collects people and groups and writes, validates and only then publishes
// an archive folder.
//
// It must never read a source itself, talk to the service, or leave a
// half-written archive where an archive is expected: Builder.WriteDir
// writes beside the target and renames only a folder that validated.
package mapping
