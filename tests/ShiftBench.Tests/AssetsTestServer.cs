using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ShiftBench.Tests;

/// <summary>
/// A small real HTTP/1.1 server on 127.0.0.1 for download tests. Every response closes its connection.
/// Routes answer with byte arrays (honouring "Range: bytes=N-"), and can cut a connection mid-file,
/// stall, or hold the response back; unknown paths get 404. It records every request it sees.
/// </summary>
sealed class AssetsTestServer : IAsyncDisposable
{
    public sealed record Request(string Path, string? Range);

    /// <summary>Answers one request; index counts earlier requests for the same path (0 for the first).</summary>
    public delegate Task Responder(Request request, int index, Stream connection, CancellationToken stop);

    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource stop = new();
    readonly ConcurrentDictionary<string, Responder> routes = new();
    readonly ConcurrentDictionary<string, int> seen = new();
    readonly ConcurrentQueue<Request> requests = new();
    readonly ConcurrentBag<Task> connections = [];
    readonly Task acceptLoop;

    public AssetsTestServer()
    {
        listener.Start();
        acceptLoop = AcceptAsync();
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";

    public IReadOnlyList<Request> Requests => [.. requests];

    public IReadOnlyList<Request> RequestsFor(string path) => [.. requests.Where(r => r.Path == path)];

    public void Route(string path, Responder responder) => routes[path] = responder;

    public static Responder Body(byte[] body) => (request, _, connection, stop) => SendAsync(connection, body, request.Range, stop);

    /// <summary>The first response announces the whole file but ends after cutAt bytes; later ones are whole.</summary>
    public static Responder CutOnce(byte[] body, int cutAt) => (request, index, connection, stop) =>
        SendAsync(connection, body, request.Range, stop, endAt: index == 0 ? cutAt : null);

    /// <summary>Sends the headers and the bytes before stallAt, then goes silent until the server stops.</summary>
    public static Responder Stall(byte[] body, int stallAt) => async (request, _, connection, stop) =>
    {
        await SendAsync(connection, body, request.Range, stop, endAt: stallAt);
        await Task.Delay(Timeout.Infinite, stop);
    };

    public static async Task SendAsync(Stream connection, byte[] body, string? range, CancellationToken stop, int? endAt = null)
    {
        int start = range is not null && range.StartsWith("bytes=") && range.EndsWith('-') ? int.Parse(range[6..^1]) : 0;
        if (start >= body.Length && start > 0)
        {
            await connection.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{body.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), stop);
            return;
        }
        string head = start > 0
            ? $"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{body.Length - 1}/{body.Length}\r\n"
            : "HTTP/1.1 200 OK\r\n";
        head += $"Content-Length: {body.Length - start}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
        await connection.WriteAsync(Encoding.ASCII.GetBytes(head), stop);
        int end = Math.Min(endAt ?? body.Length, body.Length);
        if (end > start)
            await connection.WriteAsync(body.AsMemory(start, end - start), stop);
        await connection.FlushAsync(stop);
    }

    async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            connections.Add(Task.Run(() => HandleAsync(client)));
        }
    }

    async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            var connection = client.GetStream();
            try
            {
                var request = await ReadRequestAsync(connection, stop.Token);
                if (request is null) return;
                int index = seen.AddOrUpdate(request.Path, 0, (_, n) => n + 1);
                requests.Enqueue(request);
                var responder = routes.GetValueOrDefault(request.Path);
                if (responder is null)
                    await connection.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), stop.Token);
                else
                    await responder(request, index, connection, stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The client hung up or the server is stopping.
            }
        }
    }

    static async Task<Request?> ReadRequestAsync(Stream connection, CancellationToken stop)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await connection.ReadAsync(one, stop) == 0) return null;
            head.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        string path = lines[0].Split(' ')[1];
        string? range = lines.Skip(1).Select(l => l.Split(':', 2)).Where(kv => kv[0].Trim().Equals("Range", StringComparison.OrdinalIgnoreCase))
            .Select(kv => kv[1].Trim()).FirstOrDefault();
        return new Request(path, range);
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        await acceptLoop;
        await Task.WhenAll(connections);
        stop.Dispose();
    }
}
