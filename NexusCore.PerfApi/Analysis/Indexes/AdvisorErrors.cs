using System.Reflection;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A failure as the advisor reports it: a SQLSTATE (or one of its own codes) and a fixed message of its own.</summary>
public readonly record struct AdvisorError(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>
/// Turns what the database refused into a SQLSTATE and a sentence of ours. PostgreSQL's own text (MessageText,
/// Detail, Where, an exception's Message) is never returned, stored or logged: while planning, it can carry the
/// result of whatever the planner evaluated (a failing cast prints the value it could not convert), and a
/// connection failure names hosts and ports. Only standard SQLSTATEs are repeated; a code a function chose
/// (RAISE … USING ERRCODE) could itself carry data, so it is reported as <c>P0001</c>.
/// </summary>
public static class AdvisorErrors
{
    /// <summary>Ours, for a connection that failed or broke (no SQLSTATE reached us).</summary>
    public const string ConnectionFailed = "connection";

    /// <summary>Ours, for PerfApi cancelling the work (it is stopping).</summary>
    public const string Canceled = "canceled";

    private static readonly HashSet<string> Standard = typeof(PostgresErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> ByCode = new(StringComparer.Ordinal)
    {
        [PostgresErrorCodes.UndefinedFunction] = "a function or operator the statement uses does not exist for these types",
        [PostgresErrorCodes.UndefinedTable] = "a table the statement reads does not exist",
        [PostgresErrorCodes.UndefinedColumn] = "a column the statement names does not exist",
        [PostgresErrorCodes.UndefinedObject] = "an object the statement names does not exist",
        [PostgresErrorCodes.IndeterminateDatatype] = "the type of a parameter cannot be inferred from the statement",
        [PostgresErrorCodes.AmbiguousColumn] = "a column name in the statement is ambiguous",
        [PostgresErrorCodes.AmbiguousFunction] = "a function call in the statement is ambiguous",
        [PostgresErrorCodes.DatatypeMismatch] = "the statement compares or assigns values of incompatible types",
        [PostgresErrorCodes.SyntaxError] = "the statement has a syntax error",
        [PostgresErrorCodes.InsufficientPrivilege] = "the advisor's role may not read something the statement reads",
        [PostgresErrorCodes.InvalidTextRepresentation] = "a value could not be converted to the type the statement needs",
        [PostgresErrorCodes.DivisionByZero] = "the statement divides by zero",
        [PostgresErrorCodes.QueryCanceled] = "it took longer than its time limit (IndexAdvisor:PlanStatementTimeout or BuildTimeout) and was cancelled",
        [PostgresErrorCodes.LockNotAvailable] = "a lock it needs was not granted within its lock timeout",
        [PostgresErrorCodes.ReadOnlySqlTransaction] = "it would write, and planning runs in a read-only transaction",
        [PostgresErrorCodes.FeatureNotSupported] = "it uses something PostgreSQL does not support here",
        [PostgresErrorCodes.ObjectNotInPrerequisiteState] = "an object it needs is not in the required state",
        [PostgresErrorCodes.DuplicateTable] = "a relation of that name already exists",
        [PostgresErrorCodes.UniqueViolation] = "the index would not be unique",
        [PostgresErrorCodes.ProtocolViolation] = "the text broke the protocol and the connection was closed",
        [PostgresErrorCodes.RaiseException] = "a function raised an error",
    };

    private static readonly Dictionary<string, string> ByClass = new(StringComparer.Ordinal)
    {
        ["08"] = "the connection to the database failed",
        ["0A"] = "it uses something PostgreSQL does not support here",
        ["22"] = "a value in it is invalid for its type",
        ["23"] = "it would violate a constraint",
        ["25"] = "it is not allowed in the transaction's state",
        ["28"] = "the database refused the advisor's login",
        ["40"] = "the transaction was rolled back by the database (a serialization failure or a deadlock)",
        ["42"] = "the statement is not valid against the current schema",
        ["53"] = "the database is out of a resource (memory, disk or connections)",
        ["54"] = "it exceeds a limit of the database",
        ["55"] = "an object it needs is not in the required state",
        ["57"] = "the database cancelled or ended the work (a timeout, a shutdown or an administrator)",
        ["58"] = "the database hit a system error",
        ["F0"] = "the database's configuration is invalid",
        ["P0"] = "a function raised an error",
        ["XX"] = "the database hit an internal error",
    };

    /// <summary>The SQLSTATE (standard ones only) and our sentence for it.</summary>
    public static AdvisorError Describe(PostgresException exception)
    {
        var code = Standard.Contains(exception.SqlState) ? exception.SqlState : PostgresErrorCodes.RaiseException;
        if (ByCode.TryGetValue(code, out var message) || ByClass.TryGetValue(code[..2], out message))
        {
            return new AdvisorError(code, message);
        }

        return new AdvisorError(code, "the database refused it");
    }

    /// <summary>Any failure of database work: a PostgreSQL error as above, else one of our own codes.</summary>
    public static AdvisorError Describe(Exception exception) => exception switch
    {
        PostgresException postgres => Describe(postgres),
        OperationCanceledException => new AdvisorError(Canceled, "PerfApi is stopping: the work was cancelled"),
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException =>
            new AdvisorError(ConnectionFailed, "the connection to the database failed or broke"),
        _ => new AdvisorError("error", "the work failed inside PerfApi"),
    };
}
