using System.Buffers;
using System.IO.Compression;
using Microsoft.Net.Http.Headers;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Ingest;

/// <summary>Why a body was refused: the status, the problem's error entry, the counter to bump, and the limit crossed if any.</summary>
internal sealed record PayloadProblem(int Status, PayloadRejection Reason, string Field, string Code, string Message, int? Limit = null);

/// <summary>An OTLP request body read into a pooled buffer, decompressed; return it by disposing.</summary>
internal sealed class OtlpPayload(byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, length);

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// Reads OTLP/HTTP bodies the way the specification asks senders to write them: binary protobuf
/// (<c>application/x-protobuf</c>), optionally <c>Content-Encoding: gzip</c>. OTLP/JSON is refused with 415.
/// Both the body as sent and the decompressed body are capped, so neither a large body nor a gzip bomb can
/// make PerfApi hold more than the limit.
/// </summary>
internal static class OtlpBody
{
    public const string ProtobufMediaType = "application/x-protobuf";
    private const int InitialBufferBytes = 16 * 1024;

    public static async Task<(OtlpPayload? Payload, PayloadProblem? Problem)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (ContentTypeProblem(request.ContentType) is { } contentType)
        {
            return (null, contentType);
        }

        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new PayloadProblem(
                StatusCodes.Status415UnsupportedMediaType, PayloadRejection.UnsupportedMediaType, "content-encoding",
                "content_encoding_unsupported", $"Content-Encoding '{encoding}' is not supported: send gzip or no encoding."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var (body, length) = await ReadLimitedAsync(request.Body, (int)(request.ContentLength ?? InitialBufferBytes), maxBytes, ct);
        if (length > maxBytes)
        {
            ArrayPool<byte>.Shared.Return(body);
            return (null, TooLarge(maxBytes));
        }

        if (!gzip)
        {
            return (new OtlpPayload(body, length), null);
        }

        try
        {
            using var compressed = new GZipStream(new MemoryStream(body, 0, length, writable: false), CompressionMode.Decompress);
            var (decompressed, decompressedLength) = await ReadLimitedAsync(compressed, Math.Max(length * 4, InitialBufferBytes), maxBytes, ct);
            if (decompressedLength > maxBytes)
            {
                ArrayPool<byte>.Shared.Return(decompressed);
                return (null, TooLarge(maxBytes));
            }

            return (new OtlpPayload(decompressed, decompressedLength), null);
        }
        catch (InvalidDataException)
        {
            return (null, new PayloadProblem(
                StatusCodes.Status400BadRequest, PayloadRejection.Malformed, "body", "gzip_invalid",
                "The body is declared gzip-compressed but is not valid gzip data."));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    public static PayloadProblem Malformed(string signal) => new(
        StatusCodes.Status400BadRequest, PayloadRejection.Malformed, "body", "protobuf_invalid",
        $"The body is not a valid OTLP {signal} protobuf message (malformed or truncated).");

    private static PayloadProblem? ContentTypeProblem(string? contentType)
    {
        if (MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && mediaType.MediaType.Equals(ProtobufMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var message = mediaType?.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) == true
            ? $"OTLP/JSON is not supported: send binary protobuf as {ProtobufMediaType}."
            : $"Send OTLP as {ProtobufMediaType}.";
        return new PayloadProblem(
            StatusCodes.Status415UnsupportedMediaType, PayloadRejection.UnsupportedMediaType, "content-type", "content_type_unsupported", message);
    }

    private static PayloadProblem TooLarge(int maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge, PayloadRejection.TooLarge, "body", "payload_too_large",
        $"The payload is larger than {maxBytes} bytes (as sent or decompressed). Export smaller batches.", maxBytes);

    /// <summary>
    /// Reads a stream into a pooled buffer, stopping one byte past <paramref name="maxBytes"/>: a returned
    /// length above the limit means "too large", and nothing beyond it was ever buffered.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadLimitedAsync(Stream stream, int sizeHint, int maxBytes, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(sizeHint, 1, maxBytes + 1));
        var length = 0;
        try
        {
            while (length <= maxBytes)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxBytes + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var room = (int)Math.Min(buffer.Length, maxBytes + 1L) - length;
                var read = await stream.ReadAsync(buffer.AsMemory(length, room), ct);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
