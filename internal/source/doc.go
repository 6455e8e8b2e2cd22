// Package source holds what every exporter of epic shares: the sections of
// epic.toml that configure sources, and the source-health floor that stops
// an export which came back empty or cut short before anything is packed
// or uploaded. The exporters themselves (LDAP, HR CSV, SQL, premises) live
// in packages of their own and use this one; it imports nothing of epic's.
//
// It must never write an archive or talk to the service: an exporter that
// fails its health check returns an error and leaves no archive behind.
package source
