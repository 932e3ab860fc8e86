namespace ShiftBench.Assets;

/// <summary>How AssetFetcher downloads: where files go, offline mode, mirror, retries and timeouts.</summary>
public sealed record FetchOptions
{
    public const string OfflineVariable = "SHIFTBENCH_OFFLINE";
    public const string MirrorVariable = "SHIFTBENCH_MIRROR";

    public required AssetPaths Paths { get; init; }

    /// <summary>Never touch the network: a missing asset is an error naming its URL and destination.</summary>
    public bool Offline { get; init; }

    /// <summary>Fetch every file as MirrorBaseUrl + its published file name instead of its own URL.</summary>
    public string? MirrorBaseUrl { get; init; }

    /// <summary>Tries per file (a broken connection resumes where it stopped; each try counts).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Wait before the second try; doubled before each later one.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A server that sends no response or no bytes for this long counts as a broken connection.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a process waiting for another one's download checks the lock again.</summary>
    public TimeSpan LockPollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Called (with the destination path) when another process is already downloading that asset.</summary>
    public Action<string>? WaitingForOtherDownload { get; init; }

    /// <summary>The handler requests go through (default: a SocketsHttpHandler with ConnectTimeout).</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Options from the environment: SHIFTBENCH_OFFLINE=1 (or true) and SHIFTBENCH_MIRROR=BASE_URL.</summary>
    public static FetchOptions FromEnvironment(AssetPaths paths, bool offline = false, Func<string, string?>? environment = null)
    {
        environment ??= EnvironmentVariables.Get;
        string? offlineValue = environment(OfflineVariable)?.Trim();
        string? mirror = environment(MirrorVariable);
        return new FetchOptions
        {
            Paths = paths,
            Offline = offline || offlineValue is "1" || "true".Equals(offlineValue, StringComparison.OrdinalIgnoreCase),
            MirrorBaseUrl = string.IsNullOrWhiteSpace(mirror) ? null : mirror.Trim(),
        };
    }
}
