using System.Net;
using System.Net.Http.Headers;
using ShiftBench.Output;

namespace ShiftBench.Assets;

public enum AssetState { Present, Missing, Corrupt }

/// <summary>What is on disk for one asset: its state, the file's SHA-256 when it exists, and bytes of an unfinished download.</summary>
public sealed record AssetStatus(AssetEntry Asset, string Path, AssetState State, string? Sha256, long PartialBytes);

/// <summary>
/// Makes assets present and verified. Each download streams into DEST.part beside its destination,
/// resumes with an HTTP Range request after a broken connection (also in a later process: the part
/// file stays), retries with doubling delays, gives up on a stalled server, checks the SHA-256 and only
/// then renames into place. DEST.lock keeps two processes from downloading the same file.
/// </summary>
public static class AssetFetcher
{
    public const string PartSuffix = ".part";
    public const string LockSuffix = ".lock";
    const string Unit = "bytes";

    public static async Task<AssetStatus> CheckAsync(AssetEntry asset, AssetPaths paths, CancellationToken cancellationToken = default)
    {
        string path = paths.PathOf(asset);
        string part = path + PartSuffix;
        long partial = File.Exists(part) ? new FileInfo(part).Length : 0;
        if (!File.Exists(path))
            return new AssetStatus(asset, path, AssetState.Missing, null, partial);
        string sha = await FileHash.Sha256Async(path, cancellationToken);
        return new AssetStatus(asset, path, asset.Matches(sha) ? AssetState.Present : AssetState.Corrupt, sha, partial);
    }

    /// <summary>
    /// Downloads whatever of `assets` is missing or corrupt and returns every asset's path, in order.
    /// Offline, or when the host cannot be reached, it stops at once with one ShiftBenchException naming
    /// each missing file, its URL and the folder it belongs in.
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(IEnumerable<AssetEntry> assets, FetchOptions options,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        var list = assets.DistinctBy(a => a.FileName).ToList();
        var todo = new List<AssetStatus>();
        foreach (var asset in list)
        {
            var status = await CheckAsync(asset, options.Paths, cancellationToken);
            if (status.State != AssetState.Present)
                todo.Add(status);
        }
        if (todo.Count == 0)
            return [.. list.Select(options.Paths.PathOf)];
        if (options.Offline)
            throw MissingError($"offline (--offline or {FetchOptions.OfflineVariable}=1)", todo, options,
                "download each URL into its folder, or go online");

        using var http = NewClient(options);
        for (int i = 0; i < todo.Count; i++)
        {
            try
            {
                await DownloadAsync(http, ForAsset(todo[i].Asset, options), options, progress, cancellationToken);
            }
            catch (HostUnreachableException e)
            {
                throw MissingError($"cannot reach {e.Host} ({e.Message})", todo.Skip(i).ToList(), options,
                    $"download each URL into its folder, or set {FetchOptions.MirrorVariable} to a reachable copy");
            }
        }
        return [.. list.Select(options.Paths.PathOf)];
    }

    static ShiftBenchException MissingError(string reason, IReadOnlyList<AssetStatus> missing, FetchOptions options, string fix)
    {
        var each = missing.Select(s =>
            $"{s.Asset.FileName}{(s.State == AssetState.Corrupt ? $" (present but sha256 {s.Sha256} does not match {s.Asset.Sha256})" : "")}" +
            $" from {s.Asset.UrlVia(options.MirrorBaseUrl)} into {options.Paths.DirectoryFor(s.Asset)}");
        // The network that needs no download, where published weights are what is missing.
        string tryIt = missing.Any(s => s.Asset.Kind == AssetKind.Weights) ? "; " + Models.Onnx.PackagedNetworks.TryItHint : "";
        return new ShiftBenchException($"{reason}: {missing.Count} asset(s) missing: {string.Join("; ", each)}; {fix}{tryIt}");
    }

    /// <summary>
    /// One file to download: Check returns null when a file at the given path is whole and right, else the
    /// error to report (the downloaded part file is deleted when it fails).
    /// </summary>
    public sealed record Download(string Name, string Url, string Destination, long? Size,
        Func<string, CancellationToken, Task<string?>> Check);

    static Download ForAsset(AssetEntry asset, FetchOptions options)
    {
        string url = asset.UrlVia(options.MirrorBaseUrl);
        return new Download(asset.FileName, url, options.Paths.PathOf(asset), asset.Size, async (path, cancel) =>
        {
            string actual = await FileHash.Sha256Async(path, cancel);
            return asset.Matches(actual) ? null :
                $"checksum mismatch for {asset.FileName} from {url}: its sha256 is {actual} but the published one " +
                $"{(asset.IsFullHash ? "is" : "starts with")} {asset.Sha256}; the download was deleted: rerun, or check {FetchOptions.MirrorVariable}";
        });
    }

    static HttpClient NewClient(FetchOptions options)
    {
        var handler = options.Handler ?? new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        var http = new HttpClient(handler, disposeHandler: options.Handler is null) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("ShiftBench/0.1");
        return http;
    }

    /// <summary>
    /// Downloads files that have no published checksum the same way as assets (part file, resume, retries,
    /// stall timeout, lock), accepting each only when its Check passes. An unreachable host is one
    /// ShiftBenchException naming the URL that failed and ending with `fix`. Offline mode is the caller's business.
    /// </summary>
    public static async Task DownloadAllAsync(IEnumerable<Download> files, FetchOptions options, string fix,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        using var http = NewClient(options);
        foreach (var file in files)
        {
            try
            {
                await DownloadAsync(http, file, options, progress, cancellationToken);
            }
            catch (HostUnreachableException e)
            {
                throw new ShiftBenchException($"cannot reach {e.Host} ({e.Message}) to download {file.Url} into {file.Destination}; {fix}");
            }
        }
    }

    static async Task DownloadAsync(HttpClient http, Download file, FetchOptions options,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        string dest = file.Destination;
        string part = dest + PartSuffix;
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);

        using var held = await FileLock.AcquireAsync(dest + LockSuffix, options.LockPollInterval,
            () => options.WaitingForOtherDownload?.Invoke(dest), cancellationToken);
        try
        {
            // Whoever held the lock before may have finished this very file.
            if (File.Exists(dest) && await file.Check(dest, cancellationToken) is null)
            {
                long size = new FileInfo(dest).Length;
                progress?.Report(new ProgressUpdate(file.Name, size, size, Unit));
                return;
            }
            await DownloadLockedAsync(http, file, part, options, progress, cancellationToken);
        }
        finally
        {
            // The lock file goes with the download it guards; it stays beside a part file kept for resuming.
            if (!File.Exists(part))
                held.ReleaseAndDelete();
        }
    }

    /// <summary>Tries (resuming) until the part file is whole, then checks it and renames it into place.</summary>
    static async Task DownloadLockedAsync(HttpClient http, Download file, string part,
        FetchOptions options, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await TransferAsync(http, file, part, options, progress, cancellationToken);
                break;
            }
            catch (RetryableDownloadException e)
            {
                if (attempt >= options.MaxAttempts)
                {
                    long kept = File.Exists(part) ? new FileInfo(part).Length : 0;
                    throw new ShiftBenchException(
                        $"could not download {file.Name} from {file.Url} after {attempt} tries: {e.Message}; " +
                        $"rerun to resume ({kept} bytes kept in {part})");
                }
                await Task.Delay(options.FirstRetryDelay * Math.Pow(2, attempt - 1), cancellationToken);
            }
        }

        if (await file.Check(part, cancellationToken) is { } problem)
        {
            File.Delete(part);
            throw new ShiftBenchException(problem);
        }
        File.Move(part, file.Destination, overwrite: true);
    }

    /// <summary>One HTTP request: appends to the part file from where it ends, or starts it over.</summary>
    static async Task TransferAsync(HttpClient http, Download file, string part, FetchOptions options,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        string url = file.Url;
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);

        // One timer for the whole request: restarted before each read, so it fires only on silence.
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(options.StallTimeout);
        string silence = $"no data for {options.StallTimeout.TotalSeconds:0.###} s";
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError)
        {
            throw new HostUnreachableException(request.RequestUri!.Authority, e.InnerException?.Message ?? e.Message);
        }
        catch (HttpRequestException e)
        {
            throw new RetryableDownloadException($"request failed ({e.Message})");
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (stall.IsCancellationRequested)
                throw new RetryableDownloadException($"server stalled: {silence} before the response");
            throw new HostUnreachableException(request.RequestUri!.Authority, e.InnerException?.Message ?? e.Message);
        }

        using (response)
        {
            int code = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
                return; // the part file is already whole; the checksum decides
            if (code is 408 or 429 or >= 500)
                throw new RetryableDownloadException($"HTTP {code} {response.ReasonPhrase}");
            if (!response.IsSuccessStatusCode)
                throw new ShiftBenchException(
                    $"{file.Name}: {url} answered HTTP {code} {response.ReasonPhrase}; check the address" +
                    (options.MirrorBaseUrl is null ? "" : $" and {FetchOptions.MirrorVariable}"));
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                if (response.Content.Headers.ContentRange?.From != have)
                {
                    File.Delete(part);
                    throw new RetryableDownloadException($"server resumed at the wrong offset (asked for {have})");
                }
            }
            else
            {
                have = 0; // the whole file came back: start over
            }

            long? length = response.Content.Headers.ContentLength;
            long total = length is { } l ? have + l : file.Size ?? 0;
            FileStream stream;
            try
            {
                stream = new FileStream(part, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            }
            catch (IOException e) when (File.Exists(part))
            {
                throw new RetryableDownloadException($"{part} is being written by another process ({e.Message})");
            }
            await using var _ = stream;
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[1 << 16];
            progress?.Report(new ProgressUpdate(file.Name, have, total, Unit));
            while (true)
            {
                stall.CancelAfter(options.StallTimeout);
                int read;
                try
                {
                    read = await body.ReadAsync(buffer, stall.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RetryableDownloadException($"server stalled: {silence} after {have} bytes");
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    throw new RetryableDownloadException($"connection broken after {have} bytes ({e.Message})");
                }
                if (read == 0) break;
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                have += read;
                progress?.Report(new ProgressUpdate(file.Name, have, total, Unit));
            }
            if (length is not null && have != total)
                throw new RetryableDownloadException($"connection ended after {have} of {total} bytes");
        }
    }

    sealed class RetryableDownloadException(string message) : Exception(message);

    sealed class HostUnreachableException(string host, string message) : Exception(message)
    {
        public string Host { get; } = host;
    }
}
