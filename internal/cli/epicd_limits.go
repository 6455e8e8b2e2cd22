package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/directory"
)

// companyLimitsCommand is epicd company limits: show or change a
// company's safety limits (processing.md §6).
func companyLimitsCommand(sf *storeFlags) *cobra.Command {
	var (
		on, off                      bool
		removePercent, removeMin, mp int
	)
	c := &cobra.Command{
		Use:   "limits NAME [--on|--off] [--remove-percent P] [--remove-min N] [--min-people-percent P]",
		Short: "show or change a company's safety limits",
		Long: `Show or change the safety limits of a company (processing.md §6): a job
that would remove more than --remove-percent % and more than --remove-min
objects of one type, or a mirror archive with fewer people than
--min-people-percent % of the company's, ends HELD until an administrator
approves or rejects it. --off switches the limits off, --on back on.
Without flags it prints them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if on && off {
				return exitWith(ExitFailure, "--on and --off exclude each other; give one")
			}
			for _, p := range []struct {
				name string
				v    int
			}{{"--remove-percent", removePercent}, {"--min-people-percent", mp}} {
				if c.Flags().Changed(p.name[2:]) && (p.v < 0 || p.v > 100) {
					return exitWith(ExitFailure, "%s %d: want a percentage from 0 to 100", p.name, p.v)
				}
			}
			if c.Flags().Changed("remove-min") && removeMin < 0 {
				return exitWith(ExitFailure, "--remove-min %d: want 0 or more objects", removeMin)
			}
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, args[0])
				if err != nil {
					return err
				}
				cfg := co.Config
				l := &cfg.Limits
				changed := false
				set := func(flag string, dst *int, v int) {
					if c.Flags().Changed(flag) {
						*dst, changed = v, true
					}
				}
				set("remove-percent", &l.RemovePercent, removePercent)
				set("remove-min", &l.RemoveMin, removeMin)
				set("min-people-percent", &l.MinPeoplePercent, mp)
				if on || off {
					l.Enabled, changed = on, true
				}
				if changed {
					if err := st.SetConfig(ctx, co.ID, cfg); err != nil {
						return exitWith(ExitFailure, "%v", err)
					}
				}
				printLimits(c.OutOrStdout(), cfg.Limits)
				return nil
			})
		},
	}
	def := directory.DefaultConfig().Limits
	c.Flags().BoolVar(&on, "on", false, "switch the limits on")
	c.Flags().BoolVar(&off, "off", false, "switch the limits off")
	c.Flags().IntVar(&removePercent, "remove-percent", def.RemovePercent, "hold a job removing more than this % of a type ...")
	c.Flags().IntVar(&removeMin, "remove-min", def.RemoveMin, "... and more than this many objects")
	c.Flags().IntVar(&mp, "min-people-percent", def.MinPeoplePercent, "hold a mirror archive with fewer people than this % of the company's")
	return c
}

func printLimits(w io.Writer, l directory.SafetyLimits) {
	if !l.Enabled {
		fmt.Fprintf(w, "safety limits: off (remove %d %% and %d objects, %d %% people when on)\n", l.RemovePercent, l.RemoveMin, l.MinPeoplePercent)
		return
	}
	fmt.Fprintf(w, "safety limits: on: hold a job removing more than %d %% and more than %d objects of a type, or a mirror archive with fewer than %d %% of the people\n",
		l.RemovePercent, l.RemoveMin, l.MinPeoplePercent)
}
