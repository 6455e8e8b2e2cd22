// Package ldap exports people and groups from an LDAP directory (OpenLDAP,
// Active Directory) into an archive: simple bind over LDAPS or StartTLS,
// paged searches (RFC 2696) so that a directory larger than the server's
// size limit is read whole, people mapped by package mapping, and groups
// (groupOfNames, groupOfUniqueNames, AD groups) turned into on-call groups
// with one shift, nested groups flattened or kept as group members.
//
// It must never return a partial read as a success: a failed bind, a size
// or time limit, a dropped connection or a ranged (cut) member list is an
// error, and members of groups who are not exported are reported, not
// silently dropped.
package ldap
