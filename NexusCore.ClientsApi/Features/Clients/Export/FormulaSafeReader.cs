using System.Buffers;
using System.Collections;
using System.Collections.ObjectModel;
using System.Data.Common;

namespace NexusCore.ClientsApi.Features.Clients.Export;

/// <summary>
/// OWASP's CSV-injection rule: a spreadsheet reads a cell that begins with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>,
/// tab or carriage return as a formula (<c>=HYPERLINK(…)</c> runs when an admin opens the export); a leading
/// <c>'</c> makes it text, and spreadsheets do not show that quote.
/// </summary>
internal static class CsvCells
{
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");

    public static string Neutralize(string value) =>
        value.Length > 0 && FormulaStarts.Contains(value[0]) ? "'" + value : value;
}

/// <summary>
/// The export's reader as the CSV writer sees it: every text it hands out, column names (the header row)
/// included, passes through <see cref="CsvCells.Neutralize"/>; everything else is the database reader's own.
/// </summary>
internal sealed class FormulaSafeReader(DbDataReader inner) : DbDataReader, IDbColumnSchemaGenerator
{
    public override int FieldCount => inner.FieldCount;

    public override int Depth => inner.Depth;

    public override bool HasRows => inner.HasRows;

    public override bool IsClosed => inner.IsClosed;

    public override int RecordsAffected => inner.RecordsAffected;

    public override object this[int ordinal] => GetValue(ordinal);

    public override object this[string name] => GetValue(GetOrdinal(name));

    public override string GetName(int ordinal) => CsvCells.Neutralize(inner.GetName(ordinal));

    public override string GetString(int ordinal) => CsvCells.Neutralize(inner.GetString(ordinal));

    public override object GetValue(int ordinal)
    {
        var value = inner.GetValue(ordinal);
        return value is string text ? CsvCells.Neutralize(text) : value;
    }

    public override T GetFieldValue<T>(int ordinal) =>
        typeof(T) == typeof(string) ? (T)(object)GetString(ordinal) : inner.GetFieldValue<T>(ordinal);

    public override Task<T> GetFieldValueAsync<T>(int ordinal, CancellationToken cancellationToken) =>
        typeof(T) == typeof(string) ? Task.FromResult((T)(object)GetString(ordinal)) : inner.GetFieldValueAsync<T>(ordinal, cancellationToken);

    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length)
    {
        var text = GetString(ordinal);
        if (buffer is null)
        {
            return text.Length;
        }

        var count = (int)Math.Clamp(text.Length - dataOffset, 0, length);
        text.CopyTo((int)dataOffset, buffer, bufferOffset, count);
        return count;
    }

    public override int GetValues(object[] values)
    {
        var count = Math.Min(values.Length, FieldCount);
        for (var i = 0; i < count; i++)
        {
            values[i] = GetValue(i);
        }

        return count;
    }

    public override bool Read() => inner.Read();

    public override Task<bool> ReadAsync(CancellationToken cancellationToken) => inner.ReadAsync(cancellationToken);

    public override bool NextResult() => inner.NextResult();

    public override Task<bool> NextResultAsync(CancellationToken cancellationToken) => inner.NextResultAsync(cancellationToken);

    public override bool IsDBNull(int ordinal) => inner.IsDBNull(ordinal);

    public override Task<bool> IsDBNullAsync(int ordinal, CancellationToken cancellationToken) => inner.IsDBNullAsync(ordinal, cancellationToken);

    public override int GetOrdinal(string name) => inner.GetOrdinal(name);

    public override Type GetFieldType(int ordinal) => inner.GetFieldType(ordinal);

    public override string GetDataTypeName(int ordinal) => inner.GetDataTypeName(ordinal);

    public override bool GetBoolean(int ordinal) => inner.GetBoolean(ordinal);

    public override byte GetByte(int ordinal) => inner.GetByte(ordinal);

    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) =>
        inner.GetBytes(ordinal, dataOffset, buffer, bufferOffset, length);

    public override char GetChar(int ordinal) => inner.GetChar(ordinal);

    public override DateTime GetDateTime(int ordinal) => inner.GetDateTime(ordinal);

    public override decimal GetDecimal(int ordinal) => inner.GetDecimal(ordinal);

    public override double GetDouble(int ordinal) => inner.GetDouble(ordinal);

    public override float GetFloat(int ordinal) => inner.GetFloat(ordinal);

    public override Guid GetGuid(int ordinal) => inner.GetGuid(ordinal);

    public override short GetInt16(int ordinal) => inner.GetInt16(ordinal);

    public override int GetInt32(int ordinal) => inner.GetInt32(ordinal);

    public override long GetInt64(int ordinal) => inner.GetInt64(ordinal);

    public override IEnumerator GetEnumerator() => new DbEnumerator(this);

    // The writer asks whether a column may be null; the database knows.
    public ReadOnlyCollection<DbColumn> GetColumnSchema() => inner.GetColumnSchema();
}
