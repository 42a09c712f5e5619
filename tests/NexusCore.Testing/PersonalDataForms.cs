using System.Buffers.Text;
using System.Net;
using System.Text;

namespace NexusCore.Testing;

/// <summary>
/// The spellings a secret (a name, an email, a marker inside them) can take in a log line, a telemetry
/// payload or a token: as typed, in lower and upper case, URL-encoded, hex, base64 and base64url (at
/// each of the three alignments a value can have inside a longer encoded text), and as UTF-8, UTF-16
/// (both byte orders) and Latin-1 bytes inside anything that decodes to bytes.
/// </summary>
public static class PersonalDataForms
{
    /// <summary>Every text form of <paramref name="secret"/>, each with what it is.</summary>
    public static IReadOnlyList<(string Form, string Text)> TextForms(string secret)
    {
        var forms = new List<(string, string)>();
        foreach (var (casing, value) in Casings(secret))
        {
            forms.Add((casing, value));
            forms.Add(($"{casing}, URL-encoded", Uri.EscapeDataString(value)));
            forms.Add(($"{casing}, form-encoded", WebUtility.UrlEncode(value)));
            var utf8 = Encoding.UTF8.GetBytes(value);
            forms.Add(($"{casing}, hex", Convert.ToHexString(utf8)));
            forms.Add(($"{casing}, lower-case hex", Convert.ToHexStringLower(utf8)));
            forms.Add(($"{casing}, UTF-16 hex", Convert.ToHexString(Encoding.Unicode.GetBytes(value))));
            foreach (var (encoding, text) in Base64Forms(utf8))
            {
                forms.Add(($"{casing}, {encoding}", text));
            }

            foreach (var (encoding, text) in Base64Forms(Encoding.Unicode.GetBytes(value)))
            {
                forms.Add(($"{casing}, UTF-16 {encoding}", text));
            }
        }

        // One entry per text: a marker of letters has the same URL-encoded and written forms.
        return forms.Where(f => f.Item2.Length > 0).DistinctBy(f => f.Item2).ToList();
    }

    /// <summary>Every byte form of <paramref name="secret"/>, each with what it is.</summary>
    public static IReadOnlyList<(string Form, byte[] Bytes)> ByteForms(string secret)
    {
        var forms = new List<(string, byte[])>();
        foreach (var (casing, value) in Casings(secret))
        {
            forms.Add(($"{casing}, UTF-8", Encoding.UTF8.GetBytes(value)));
            forms.Add(($"{casing}, UTF-16LE", Encoding.Unicode.GetBytes(value)));
            forms.Add(($"{casing}, UTF-16BE", Encoding.BigEndianUnicode.GetBytes(value)));
            forms.Add(($"{casing}, Latin-1", Encoding.Latin1.GetBytes(value)));
        }

        return forms;
    }

    /// <summary>The forms of <paramref name="secret"/> that <paramref name="text"/> contains (case-insensitively).</summary>
    public static IReadOnlyList<string> FoundIn(string text, string secret) =>
        TextForms(secret).Where(f => text.Contains(f.Text, StringComparison.OrdinalIgnoreCase)).Select(f => f.Form).Distinct().ToList();

    /// <summary>The forms of <paramref name="secret"/> in <paramref name="bytes"/>.</summary>
    public static IReadOnlyList<string> FoundIn(ReadOnlySpan<byte> bytes, string secret)
    {
        var found = new List<string>();
        foreach (var (form, needle) in ByteForms(secret))
        {
            if (bytes.IndexOf(needle) >= 0)
            {
                found.Add(form);
            }
        }

        return found;
    }

    /// <summary>
    /// The forms of <paramref name="secret"/> in a token (a cursor): in its text, and in the bytes of each
    /// of its parts (split at '.') that decodes as base64url or base64.
    /// </summary>
    public static IReadOnlyList<string> FoundInToken(string token, string secret)
    {
        var found = FoundIn(token, secret).ToList();
        foreach (var part in token.Split('.'))
        {
            foreach (var bytes in Decodings(part))
            {
                found.AddRange(FoundIn(bytes, secret).Select(f => "decoded part, " + f));
            }
        }

        return found.Distinct().ToList();
    }

    private static IEnumerable<(string Casing, string Value)> Casings(string secret) =>
        new[] { ("as written", secret), ("lower case", secret.ToLowerInvariant()), ("upper case", secret.ToUpperInvariant()) }
            .DistinctBy(c => c.Item2);

    /// <summary>
    /// Base64 and base64url of <paramref name="bytes"/> at offsets 0, 1 and 2 of a longer input: the
    /// characters that depend on these bytes only (an encoder mixes a neighbour's bits into the first and
    /// last group).
    /// </summary>
    private static IEnumerable<(string Encoding, string Text)> Base64Forms(byte[] bytes)
    {
        for (var offset = 0; offset < 3; offset++)
        {
            var shifted = new byte[offset + bytes.Length];
            bytes.CopyTo(shifted, offset);
            var encoded = Convert.ToBase64String(shifted);
            var from = offset == 0 ? 0 : 4;
            var to = (shifted.Length / 3) * 4;
            if (to - from < 4)
            {
                continue;
            }

            var stable = encoded[from..to];
            yield return ($"base64 at offset {offset}", stable);
            yield return ($"base64url at offset {offset}", stable.Replace('+', '-').Replace('/', '_'));
        }
    }

    private static IEnumerable<byte[]> Decodings(string part)
    {
        if (Base64Url.IsValid(part))
        {
            yield return Base64Url.DecodeFromChars(part);
        }

        var standard = part.Replace('-', '+').Replace('_', '/');
        standard = standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '=');
        var buffer = new byte[standard.Length];
        if (Convert.TryFromBase64String(standard, buffer, out var written))
        {
            yield return buffer[..written];
        }
    }
}
