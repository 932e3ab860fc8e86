using ShiftBench.Assets;

namespace ShiftBench.Site;

/// <summary>One site grid, read and checked: where it came from (URL or path), where it was read, its values by [y, x].</summary>
public sealed record SiteGrid(SiteFile File, string Source, string Path, double[,] Values);

/// <summary>
/// Gets the site's grids from a folder, or from a base URL through a cache folder. The site publishes no
/// checksums, so integrity rests on HTTPS plus a structural check: a download enters the cache (part
/// file, then rename, as for assets) only when it is a whole grid (SiteCsv: header, every position once,
/// finite values); a cached file is reused as is and checked again whenever it is read. The values
/// themselves are what `reproduce` compares, so a wrong file cannot pass unnoticed.
/// </summary>
public static class SiteFiles
{
    /// <summary>$XDG_CACHE_HOME/shiftbench/site, else ~/.cache/shiftbench/site.</summary>
    public static string DefaultCacheDir(Func<string, string?>? environment = null)
    {
        environment ??= EnvironmentVariables.Get;
        string? xdg = environment("XDG_CACHE_HOME");
        string root = string.IsNullOrWhiteSpace(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "shiftbench", "site");
    }

    /// <summary>True when --site names an http(s) base URL rather than a folder.</summary>
    public static bool IsUrl(string site) =>
        site.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || site.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The cache folder for one base URL (CACHE/host[_port]/path...), so files of different sites or
    /// mirrors never mix.
    /// </summary>
    public static string CacheFolder(string cacheDir, string baseUrl)
    {
        var uri = new Uri(baseUrl);
        string host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}_{uri.Port}";
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Safe);
        return Path.Combine([cacheDir, Safe(host), .. segments]);
    }

    static string Safe(string part)
    {
        var chars = Uri.UnescapeDataString(part).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        string name = new(chars);
        return name is "." or ".." ? "_" : name;
    }

    /// <summary>
    /// Reads every file of `files` as a size x size grid from `site` (a folder or a base URL). Files missing
    /// from the cache are downloaded unless fetch.Offline; a missing, unreachable or malformed file is one
    /// ShiftBenchException naming its URL (or path).
    /// </summary>
    public static async Task<IReadOnlyList<SiteGrid>> LoadAsync(IReadOnlyList<SiteFile> files, string site, string cacheDir, int size,
        FetchOptions fetch, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!IsUrl(site))
        {
            if (!Directory.Exists(site))
                throw new ShiftBenchException($"--site {site} is neither a folder nor an http(s) URL; give the folder holding the site's CSVs or a base URL such as {StudySite.BaseUrl}");
            var missing = files.Select(f => Path.Combine(site, f.FileName)).Where(p => !File.Exists(p)).ToList();
            if (missing.Count > 0)
                throw new ShiftBenchException($"{missing.Count} site file(s) missing from --site {site}: {Some(missing)}; copy them there from {StudySite.BaseUrl}");
            return [.. files.Select(f => Read(f, Path.Combine(site, f.FileName), Path.Combine(site, f.FileName), size, cached: false))];
        }

        string baseUrl = site.EndsWith('/') ? site : site + "/";
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out _))
            throw new ShiftBenchException($"--site {site} is not a valid URL");
        string folder = CacheFolder(cacheDir, baseUrl);
        var located = files.Select(f => (File: f, Url: baseUrl + f.FileName, Path: Path.Combine(folder, f.FileName))).ToList();
        var toFetch = located.Where(l => !File.Exists(l.Path)).ToList();
        if (toFetch.Count > 0)
        {
            if (fetch.Offline)
                throw new ShiftBenchException($"offline (--offline or {FetchOptions.OfflineVariable}=1): {toFetch.Count} site file(s) are not in the cache {folder}: " +
                    $"{Some(toFetch.Select(l => l.Url).ToList())}; download them into that folder, give --site a folder, or go online");
            await AssetFetcher.DownloadAllAsync(toFetch.Select(l => new AssetFetcher.Download(l.File.FileName, l.Url, l.Path, null, (path, _) =>
            {
                try { SiteCsv.Read(path, size); return Task.FromResult<string?>(null); }
                catch (FormatException e) { return Task.FromResult<string?>($"{l.Url} is not a {size}x{size} site grid: {e.Message}; it was not kept: check --site"); }
            })), fetch, "check the network, or give --site a reachable mirror or a folder holding the files", progress is null ? null : new FilesDone(progress, toFetch.Count), cancellationToken);
        }
        return [.. located.Select(l => Read(l.File, l.Url, l.Path, size, cached: !toFetch.Contains(l)))];
    }

    static SiteGrid Read(SiteFile file, string source, string path, int size, bool cached)
    {
        try
        {
            return new SiteGrid(file, source, path, SiteCsv.Read(path, size));
        }
        catch (FormatException e)
        {
            throw new ShiftBenchException(cached
                ? $"cached {path} (from {source}) is not a {size}x{size} site grid: {e.Message}; delete it to download it again"
                : $"{source} is not a {size}x{size} site grid: {e.Message}");
        }
    }

    static string Some(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(5)) + (items.Count > 5 ? $" and {items.Count - 5} more" : "");

    /// <summary>Turns the fetcher's bytes-per-file updates into one count of finished files (the files are small).</summary>
    sealed class FilesDone(IProgress<ProgressUpdate> inner, int total) : IProgress<ProgressUpdate>
    {
        readonly HashSet<string> done = [];

        public void Report(ProgressUpdate update)
        {
            if (update.Total > 0 && update.Done >= update.Total && done.Add(update.Task))
                inner.Report(new ProgressUpdate("study site CSVs", done.Count, total, "files"));
        }
    }
}
