using System.Globalization;
using NexusCore.Migrator.Seeding;

namespace NexusCore.Migrator;

/// <summary>
/// What the command line asks for. The grammar is two verbs and two options, so it is parsed here
/// rather than with a parser library; anything it does not know is a usage error (exit code 2).
/// </summary>
public abstract record MigratorCommand
{
    public const string Usage = """
        Usage: NexusCore.Migrator [migrate]
               NexusCore.Migrator seed [--clients <count>] [--as-of <yyyy-MM-dd>]
               NexusCore.Migrator --help

          migrate                apply pending migrations, then exit (the default)
          seed                   apply pending migrations, then make sure the seeded clients 1..count
                                 exist; a rerun with the same or a lower count adds nothing
            --clients <count>    seeded clients wanted, 1 to 50000000 (default 10000, or Seed:Clients)
            --as-of <date>       UTC day the seeded created_at values run up to (default: today)

        Exit codes: 0 done, 1 failed (the log names why), 2 usage or configuration error.
        """;

    private MigratorCommand()
    {
    }

    public static MigratorCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return new Migrate();
        }

        return args[0] switch
        {
            "migrate" when args.Count == 1 => new Migrate(),
            "migrate" => new Invalid($"'migrate' takes no arguments; got '{args[1]}'."),
            "seed" => ParseSeed(args.Skip(1).ToList()),
            "--help" or "-h" or "help" when args.Count == 1 => new Help(),
            _ => new Invalid($"Unknown command '{args[0]}'."),
        };
    }

    private static MigratorCommand ParseSeed(List<string> args)
    {
        int? clients = null;
        DateOnly? asOf = null;
        for (var i = 0; i < args.Count; i++)
        {
            // Both "--clients 10" and "--clients=10".
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, (string?)v) : (args[i], null);
            if (name is not ("--clients" or "--as-of"))
            {
                return new Invalid($"Unknown argument '{args[i]}' for 'seed'.");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    return new Invalid($"'{name}' needs a value.");
                }

                value = args[++i];
            }

            if (name == "--clients")
            {
                if (clients is not null)
                {
                    return new Invalid("'--clients' is given twice.");
                }

                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    || count is < 1 or > SeedOptions.MaxClients)
                {
                    return new Invalid($"'--clients' must be a whole number from 1 to {SeedOptions.MaxClients}; got '{value}'.");
                }

                clients = count;
            }
            else
            {
                if (asOf is not null)
                {
                    return new Invalid("'--as-of' is given twice.");
                }

                if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                {
                    return new Invalid($"'--as-of' must be a date as yyyy-MM-dd; got '{value}'.");
                }

                asOf = day;
            }
        }

        return new Seed(clients, asOf);
    }

    /// <summary>Apply pending migrations (what the AppHost runs).</summary>
    public sealed record Migrate : MigratorCommand;

    /// <summary>Apply pending migrations, then seed; unset options come from configuration (<see cref="SeedOptions"/>).</summary>
    public sealed record Seed(int? Clients, DateOnly? AsOf) : MigratorCommand
    {
        /// <summary>The options given on the command line, as configuration keys that override the rest.</summary>
        public IEnumerable<KeyValuePair<string, string?>> AsConfiguration()
        {
            if (Clients is { } clients)
            {
                yield return new($"{SeedOptions.Section}:{nameof(SeedOptions.Clients)}", clients.ToString(CultureInfo.InvariantCulture));
            }

            if (AsOf is { } asOf)
            {
                yield return new($"{SeedOptions.Section}:{nameof(SeedOptions.AsOf)}", asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }
        }
    }

    public sealed record Help : MigratorCommand;

    public sealed record Invalid(string Error) : MigratorCommand;
}
