package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"github.com/epicsync/epic/internal/directory"
)

// minPassword is the shortest password an API user may have.
const minPassword = 8

func userCommand(sf *storeFlags) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "add API users", Args: cobra.NoArgs,
		Long: "Add API users: the logins that epic and other HTTP clients authenticate with.",
		RunE: func(c *cobra.Command, args []string) error { return c.Help() }}
	user.AddCommand(userAddCommand(sf))
	return user
}

func userAddCommand(sf *storeFlags) *cobra.Command {
	var company, login, passwordFile string
	var roles []string
	c := &cobra.Command{
		Use:   "add --company NAME --user LOGIN [--password-file F] [--role ROLE]...",
		Short: "add an API user to a company",
		Long: `Add an API user to a company. Logins are unique across the service,
case-insensitively. The password is read from --password-file (its first
line), or else from standard input (its first line; prompted on a terminal).
Roles: epic-uploader (upload archives, read imports; the default),
reader (read the directory and imports), company-admin (everything).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			login = strings.TrimSpace(login)
			if company == "" || login == "" {
				return exitWith(ExitFailure, "user add needs --company NAME and --user LOGIN; usage: %s", c.UseLine())
			}
			if strings.ContainsAny(login, ":\r\n\t ") {
				return exitWith(ExitFailure, "--user %q: a login has no spaces or colons (HTTP Basic authentication cannot carry them)", login)
			}
			var rs []directory.Role
			for _, r := range roles {
				role := directory.Role(strings.TrimSpace(r))
				if !slices.Contains(directory.Roles, role) {
					return exitWith(ExitFailure, "--role %q: write epic-uploader, reader or company-admin", r)
				}
				if !slices.Contains(rs, role) {
					rs = append(rs, role)
				}
			}
			if len(rs) == 0 {
				rs = []directory.Role{directory.RoleUploader}
			}
			pw, err := readPassword(c, passwordFile)
			if err != nil {
				return err
			}
			hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
			if err != nil {
				return exitWith(ExitFailure, "hash the password: %v", err)
			}
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, company)
				if err != nil {
					return err
				}
				u := &directory.User{CompanyID: co.ID, Login: login, PasswordHash: hash, Roles: rs}
				err = st.AddUser(ctx, u)
				if errors.Is(err, directory.ErrExists) {
					return exitWith(ExitFailure, "the login %q is taken (logins are unique across the service, whatever the case)", login)
				}
				if err != nil {
					return err
				}
				names := make([]string, len(rs))
				for i, r := range rs {
					names[i] = string(r)
				}
				fmt.Fprintf(c.OutOrStdout(), "added user %s to %s with roles %s\n", u.Login, co.Name, strings.Join(names, ", "))
				return nil
			})
		},
	}
	c.Flags().StringVar(&company, "company", "", "the company the user acts in")
	c.Flags().StringVar(&login, "user", "", "the login")
	c.Flags().StringVar(&passwordFile, "password-file", "", "a file whose first line is the password (default: read standard input)")
	c.Flags().StringArrayVar(&roles, "role", nil, "a role: epic-uploader, reader or company-admin (repeat for several)")
	return c
}

// readPassword reads the first line of the file, or of standard input.
func readPassword(c *cobra.Command, file string) (string, error) {
	var r io.Reader = c.InOrStdin()
	from := "standard input"
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", exitWith(ExitFailure, "--password-file: %v", err)
		}
		defer f.Close()
		r, from = f, file
	} else if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && c.InOrStdin() == os.Stdin {
		fmt.Fprint(c.ErrOrStderr(), "Password (shown as you type; use --password-file to avoid that): ")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", exitWith(ExitFailure, "read the password from %s: %v", from, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < minPassword {
		return "", exitWith(ExitFailure, "the password from %s has %d characters; it needs at least %d", from, len(pw), minPassword)
	}
	if len(pw) > 72 {
		return "", exitWith(ExitFailure, "the password from %s has %d bytes; bcrypt takes at most 72", from, len(pw))
	}
	return pw, nil
}
