package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/secret"
)

// secretKeys are the configuration keys epic encrypt seals: every value
// that is a password or may hold one (a database URL).
var secretKeys = []string{
	"auth.password",
	"sql.dsn",
	"ldap.bind_password",
	"cloudsync.database",
}

func encryptCommand() *cobra.Command {
	var keyFile string
	c := &cobra.Command{
		Use:   "encrypt CONFIG",
		Short: "encrypt the secrets of a configuration file in place",
		Long: `Replace the secret values of the TOML file CONFIG by ENC(...) values
sealed with AES-256-GCM: ` + strings.Join(secretKeys, ", ") + `.
Everything else in the file (comments, order, other values) stays as it
is; values already encrypted are left alone. epic decrypts them when it
reads the file.

The key is the file --key-file, else $EPIC_KEY_FILE, else
~/.config/epic/key; it is made with 32 random bytes (mode 0600) on first
use. A key file that its group or others may read is refused. Keep it: a
configuration encrypted with a lost key must be written again. The
secrets never appear in any message.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := args[0]
			if keyFile == "" {
				var err error
				if keyFile, err = secret.DefaultKeyFile(); err != nil {
					return exitWith(ExitFailure, "%v", err)
				}
			}
			fi, err := os.Stat(path)
			if err != nil {
				return exitWith(ExitFailure, "read configuration: %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return exitWith(ExitFailure, "read configuration: %v", err)
			}
			k, created, err := secret.LoadOrCreateKey(keyFile)
			if err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			out := c.OutOrStdout()
			if created {
				fmt.Fprintf(out, "made the key file %s (keep it: without it the encrypted values cannot be read)\n", keyFile)
			}
			text, sealed, err := secret.SealTOML(string(b), secretKeys, k)
			if err != nil {
				return exitWith(ExitFailure, "%s: %v", path, err)
			}
			if len(sealed) == 0 {
				fmt.Fprintf(out, "%s has no plain secret to encrypt (looked for %s)\n", path, strings.Join(secretKeys, ", "))
				return nil
			}
			tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
			if err != nil {
				return exitWith(ExitFailure, "write %s: %v", path, err)
			}
			defer os.Remove(tmp.Name())
			_, err = tmp.WriteString(text)
			if err == nil {
				err = tmp.Chmod(fi.Mode().Perm())
			}
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), path)
			}
			if err != nil {
				return exitWith(ExitFailure, "write %s: %v", path, err)
			}
			fmt.Fprintf(out, "encrypted %s in %s with the key %s\n", strings.Join(sealed, ", "), path, keyFile)
			return nil
		},
	}
	c.Flags().StringVar(&keyFile, "key-file", "", "key file (default $EPIC_KEY_FILE, else ~/.config/epic/key)")
	return c
}
