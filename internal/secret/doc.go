// Package secret encrypts and decrypts the secret values of epic's
// configuration files. A secret is stored as ENC(base64(nonce|ciphertext)),
// sealed with AES-256-GCM under a key kept in a file that only its owner
// may read (default ~/.config/epic/key, or EPIC_KEY_FILE), made with 32
// random bytes on first use.
//
// It must never put a secret, or any part of one, in an error message, and
// never read a key file that other users could read.
package secret
