using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace StableDiffusion.E2E.Hostile;

/// <summary>One answer read off the wire: status (0 when the server closed without one), media type, body, time.</summary>
public sealed record RawAnswer(int Status, string? MediaType, string Body, TimeSpan Elapsed);

/// <summary>HTTP/1.1 over a plain socket, so requests can be anything: chunked, truncated, lying, malformed.</summary>
public static class RawHttp
{
    public static byte[] Request(string method, string path, string host, string? contentType, byte[] body, bool chunked, IEnumerable<string>? extraHeaders = null)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        if (contentType is not null)
        {
            head.Append($"Content-Type: {contentType}\r\n");
        }
        foreach (var header in extraHeaders ?? [])
        {
            head.Append(header).Append("\r\n");
        }
        using var stream = new MemoryStream();
        if (chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n\r\n");
            stream.Write(Encoding.ASCII.GetBytes(head.ToString()));
            for (int offset = 0; offset < body.Length; offset += 64 * 1024)
            {
                int length = Math.Min(64 * 1024, body.Length - offset);
                stream.Write(Encoding.ASCII.GetBytes($"{length:x}\r\n"));
                stream.Write(body, offset, length);
                stream.Write("\r\n"u8);
            }
            stream.Write("0\r\n\r\n"u8);
        }
        else
        {
            if (method != "GET" || body.Length > 0)
            {
                head.Append($"Content-Length: {body.Length}\r\n");
            }
            head.Append("\r\n");
            stream.Write(Encoding.ASCII.GetBytes(head.ToString()));
            stream.Write(body);
        }
        return stream.ToArray();
    }

    /// <summary>Sends <paramref name="request"/> (all of it, or what the server reads before answering) and reads the
    /// answer until the server closes (every request says <c>Connection: close</c>). <paramref name="halfClose"/> sends
    /// FIN after the request, for bodies shorter than they claim; Kestrel takes a FIN as the client going away and
    /// aborts the request, so it is only for those.</summary>
    public static async Task<RawAnswer> SendAsync(string host, int port, byte[] request, TimeSpan timeout, bool halfClose = false)
    {
        var watch = Stopwatch.StartNew();
        using var client = new TcpClient { NoDelay = true };
        using var cts = new CancellationTokenSource(timeout);
        await client.ConnectAsync(host, port, cts.Token);
        var stream = client.GetStream();
        var reading = ReadAllAsync(stream, cts.Token);
        try
        {
            await stream.WriteAsync(request, cts.Token);
            if (halfClose)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The server answered (413) and closed before reading everything: the answer is still there to read.
        }
        byte[] response;
        try
        {
            response = await reading;
        }
        catch (OperationCanceledException)
        {
            return new RawAnswer(-1, null, "no answer within " + timeout, watch.Elapsed);
        }
        return Parse(response, watch.Elapsed);
    }

    private static async Task<byte[]> ReadAllAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset after the answer (Kestrel closes a connection whose body it did not read): keep what came.
        }
        return buffer.ToArray();
    }

    private static RawAnswer Parse(byte[] response, TimeSpan elapsed)
    {
        int split = response.AsSpan().IndexOf("\r\n\r\n"u8);
        if (split < 0)
        {
            return new RawAnswer(0, null, Encoding.UTF8.GetString(response), elapsed);
        }
        var lines = Encoding.ASCII.GetString(response, 0, split).Split("\r\n");
        var statusParts = lines[0].Split(' ');
        int status = statusParts.Length > 1 && int.TryParse(statusParts[1], out var s) ? s : 0;
        string? mediaType = null;
        bool chunked = false;
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }
            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                mediaType = value.Split(';')[0].Trim();
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }
        var body = response.AsSpan(split + 4);
        return new RawAnswer(status, mediaType, Encoding.UTF8.GetString(chunked ? Dechunk(body) : body), elapsed);
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> body)
    {
        using var output = new MemoryStream();
        while (true)
        {
            int lineEnd = body.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }
            var sizeText = Encoding.ASCII.GetString(body[..lineEnd]).Split(';')[0];
            if (!int.TryParse(sizeText, System.Globalization.NumberStyles.HexNumber, null, out int size) || size == 0
                || lineEnd + 2 + size > body.Length)
            {
                break;
            }
            output.Write(body.Slice(lineEnd + 2, size));
            body = body[Math.Min(body.Length, lineEnd + 4 + size)..];
        }
        return output.ToArray();
    }
}
