namespace ShiftBench.Assets;

public enum AssetKind { Weights, Data }

/// <summary>
/// One downloadable file: where it is published, how to recognise it and which folder it belongs in.
/// Sha256 is lowercase hex: the full 64 digits, or a published prefix (weights carry 8 digits in their name).
/// </summary>
public sealed record AssetEntry(string FileName, string Url, string Sha256, long? Size, string Licence, AssetKind Kind)
{
    public bool IsFullHash => Sha256.Length == 64;

    public bool Matches(string actualSha256) =>
        IsFullHash
            ? actualSha256.Equals(Sha256, StringComparison.OrdinalIgnoreCase)
            : actualSha256.StartsWith(Sha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>The URL to fetch: the published one, or BASE_URL + published file name under a mirror.</summary>
    public string UrlVia(string? mirrorBaseUrl)
    {
        if (string.IsNullOrWhiteSpace(mirrorBaseUrl)) return Url;
        string published = Url[(Url.LastIndexOf('/') + 1)..];
        return mirrorBaseUrl.EndsWith('/') ? mirrorBaseUrl + published : mirrorBaseUrl + "/" + published;
    }
}
