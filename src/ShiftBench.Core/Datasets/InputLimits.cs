namespace ShiftBench.Datasets;

/// <summary>
/// Upper bounds on what a dataset may ask for, checked before any image is decoded or tensor allocated, so no
/// config or image can push the process past a few GB (README "Datasets"). Each is far above any real use:
/// the study's canvas is 224, its largest source 1,000 x 667 and its largest resize 356.
/// </summary>
public static class InputLimits
{
    /// <summary>canvas.size, patch.size and patches.size (the network's input side; a network's memory grows with its square and the batch size).</summary>
    public const int MaxCanvasSize = 1024;
    /// <summary>resize (the side a source is resized to before cropping): 200 MB as float32 RGB.</summary>
    public const int MaxResize = 4096;
    /// <summary>Offsets per axis of one grid (kind subpixel: range / step + 1); others are bounded by the sizes above.</summary>
    public const int MaxOffsetsPerAxis = MaxResize;
    /// <summary>Width x height of a source image, read from its header before decoding (a 40 MP RGBA decode is ~1 GB in all).</summary>
    public const long MaxSourcePixels = 40_000_000;
    /// <summary>A dataset config (YAML); real ones are under 2 KB.</summary>
    public const long MaxConfigBytes = 1L << 20;
    /// <summary>A source image file; PNGs of MaxSourcePixels stay well below this.</summary>
    public const long MaxImageBytes = 512L << 20;
}
