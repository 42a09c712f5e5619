using System.Buffers;
using System.Data.Common;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Sylvan.Data.Csv;

namespace NexusCore.ClientsApi.Features.Clients.Export;

/// <summary>The two export formats, each written row by row straight to the response.</summary>
internal static class Writers
{
    public const string Csv = "text/csv";
    public const string Ndjson = "application/x-ndjson";

    private static readonly CsvDataWriterOptions CsvOptions = new()
    {
        NewLine = "\r\n", // RFC 4180 line breaks
        DateTimeFormat = "yyyy-MM-ddTHH:mm:ss.ffffffZ",
        WriteHeaders = true,
    };

    private static readonly JsonEncodedText[] JsonNames =
        new[] { "id", "name", "email", "status", "programType", "createdAt", "updatedAt", "version" }
            .Select(n => JsonEncodedText.Encode(n)).ToArray();

    /// <summary>
    /// RFC 4180 CSV with a header row; Sylvan quotes fields that need it. A cell (header included) that a
    /// spreadsheet would read as a formula gets a leading <c>'</c> (<see cref="CsvCells"/>).
    /// </summary>
    public static async Task<long> WriteCsvAsync(DbDataReader reader, Stream body, CancellationToken ct)
    {
        await using var text = new StreamWriter(body, new UTF8Encoding(false), bufferSize: 64 * 1024, leaveOpen: true);
        await using var csv = CsvDataWriter.Create(text, CsvOptions);
        var rows = await csv.WriteAsync(new FormulaSafeReader(reader), ct);
        await text.FlushAsync(ct);
        return rows;
    }

    /// <summary>One JSON object per line, in the same shape as the API's client objects; values exactly as stored.</summary>
    public static async Task<long> WriteNdjsonAsync(DbDataReader reader, PipeWriter body, CancellationToken ct)
    {
        long rows = 0;
        await using var json = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true });
        while (await reader.ReadAsync(ct))
        {
            json.WriteStartObject();
            json.WriteNumber(JsonNames[0], reader.GetInt64(0));
            json.WriteString(JsonNames[1], reader.GetString(1));
            json.WriteString(JsonNames[2], reader.GetString(2));
            json.WriteString(JsonNames[3], reader.GetString(3));
            json.WriteString(JsonNames[4], reader.GetString(4));
            json.WriteString(JsonNames[5], reader.GetFieldValue<DateTime>(5));
            json.WriteString(JsonNames[6], reader.GetFieldValue<DateTime>(6));
            json.WriteNumber(JsonNames[7], reader.GetInt32(7));
            json.WriteEndObject();
            await json.FlushAsync(ct);
            json.Reset();
            body.Write("\n"u8);
            rows++;

            // Hand a full buffer to Kestrel: memory stays flat and a slow client slows the read.
            if (body.UnflushedBytes >= 32 * 1024)
            {
                await body.FlushAsync(ct);
            }
        }

        await body.FlushAsync(ct);
        return rows;
    }
}
