// Package directory is the model of a company's people directory (sites,
// people, devices, custom values, on-call groups, shifts and their members,
// import jobs with their reports) and the Store interface that the sqlite
// and postgres packages implement. It holds no SQL and no sync rules: the
// engine decides what changes, a Store only keeps it, transactionally.
package directory
