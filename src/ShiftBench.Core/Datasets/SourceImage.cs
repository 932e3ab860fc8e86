using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Datasets;

/// <summary>Reading source images and resizing them exactly as the study did.</summary>
public static class SourceImage
{
    /// <summary>Finds a source file in the data directory; missing files name the directory and the fix.</summary>
    public static string Locate(string dataDir, string file)
    {
        string path = Path.IsPathRooted(file) ? file : Path.Combine(dataDir, file);
        if (!File.Exists(path))
            throw new ShiftBenchException($"source image {path} is missing: put {file} in the data directory (--data-dir, $SHIFTBENCH_DATA or data/), or run `shiftbench fetch`");
        return path;
    }

    /// <summary>
    /// Loads an image as float32 [4, H, W] (RGBA, 0..255) on the CPU. Before decoding, the file must be whole
    /// (<see cref="ImageFileCheck"/>: ImageSharp fills a cut-off PNG with black instead of failing) and its header's
    /// width x height within <see cref="InputLimits.MaxSourcePixels"/>.
    /// </summary>
    public static Tensor LoadRgba(string path)
    {
        ImageFileCheck.CheckWhole(path);
        Image<Rgba32> image;
        try
        {
            var info = Image.Identify(path);
            if (info is not null && (long)info.Width * info.Height > InputLimits.MaxSourcePixels)
                throw new ShiftBenchException($"source image {path} is {info.Width}x{info.Height}, above the limit of {InputLimits.MaxSourcePixels} pixels; scale it down first");
            image = Image.Load<Rgba32>(path);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or IOException or NotSupportedException)
        {
            throw new ShiftBenchException($"source image {path} cannot be read ({e.Message.Split('\n')[0]}); give a PNG or JPEG file");
        }
        using (image)
        {
            var bytes = new byte[image.Width * image.Height * 4];
            image.CopyPixelDataTo(bytes);
            using var hwc = tensor(bytes, [image.Height, image.Width, 4], ScalarType.Byte);
            return hwc.permute(2, 0, 1).to(ScalarType.Float32).contiguous();
        }
    }

    /// <summary>
    /// The datasets' resize, the one place that decides how a source image is resized (the datasets and the
    /// report's hover image both come here): chw is float32 [C, H, W] holding 8-bit values; the result is
    /// [C, height, width], 8-bit values kept as float32.
    /// `opencv`: OpenCV's 8-bit cv2.resize(INTER_LINEAR) bit for bit (<see cref="OpenCvResize"/>), what the study did.
    /// `bilinear`: bilinear with half-pixel centres and no antialiasing in float64 (PyTorch's
    /// interpolate(align_corners=False, antialias=False)), rounded half to even; within one grey level of opencv.
    /// </summary>
    public static Tensor Resize8Bit(Tensor chw, int height, int width, string method) => method switch
    {
        DatasetConfig.OpenCvResizeMethod => ResizeOpenCv(chw, height, width),
        DatasetConfig.BilinearResizeMethod => ResizeBilinear(chw, height, width),
        _ => throw new ShiftBenchException($"resize_method '{method}' is unknown; use {string.Join(" or ", DatasetConfig.ResizeMethods)}"),
    };

    static Tensor ResizeOpenCv(Tensor chw, int height, int width)
    {
        int channels = (int)chw.shape[0], srcHeight = (int)chw.shape[1], srcWidth = (int)chw.shape[2];
        using var scope = NewDisposeScope();
        // OpenCV works on interleaved bytes (channels last); the values are whole numbers 0..255, so the byte cast is exact.
        var hwc = chw.permute(1, 2, 0).to(ScalarType.Byte).contiguous().cpu().data<byte>().ToArray();
        var resized = OpenCvResize.Resize(hwc, srcWidth, srcHeight, channels, width, height);
        return tensor(resized, [height, width, channels], ScalarType.Byte).permute(2, 0, 1).to(ScalarType.Float32).contiguous()
            .MoveToOuterDisposeScope();
    }

    /// <summary>Computed in float64 so ties at .5 round the same in every libtorch version.</summary>
    static Tensor ResizeBilinear(Tensor chw, int height, int width)
    {
        if (chw.shape[1] == height && chw.shape[2] == width) return chw.clone();
        using var scope = NewDisposeScope();
        var resized = nn.functional.interpolate(chw.to(ScalarType.Float64).unsqueeze(0), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false)
            .squeeze(0).round().clamp(0, 255).to(ScalarType.Float32);
        return resized.MoveToOuterDisposeScope();
    }

    /// <summary>Writes an 8-bit RGB image given as [3, H, W] values 0..255.</summary>
    public static void SavePng(Tensor chw8, string path)
    {
        using var hwc = chw8.to(ScalarType.Byte).permute(1, 2, 0).contiguous().cpu();
        var bytes = hwc.data<byte>().ToArray();
        using var image = Image.LoadPixelData<Rgb24>(bytes, (int)chw8.shape[2], (int)chw8.shape[1]);
        image.SaveAsPng(path);
    }
}
