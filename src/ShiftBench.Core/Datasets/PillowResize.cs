namespace ShiftBench.Datasets;

/// <summary>
/// Pillow's 8-bit BILINEAR resize (Image.resize, what torchvision's Resize does to a PIL image), bit for bit,
/// written from Pillow's Resample.c (9.x): a triangle filter widened by the scale when reducing (antialiasing),
/// coefficients normalised in float64 and rounded to fixed point with 22 fraction bits, a horizontal pass into an
/// 8-bit image of the needed rows, then a vertical pass; each sum starts at half a unit and is clipped to 0..255.
/// </summary>
public static class PillowResize
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes interleaved 8-bit pixels [srcHeight, srcWidth, channels] to [height, width, channels].</summary>
    public static byte[] Resize(byte[] src, int srcWidth, int srcHeight, int channels, int width, int height)
    {
        if (src.Length != srcWidth * srcHeight * channels) throw new ArgumentException("pixel buffer does not match its size", nameof(src));
        if (width == srcWidth && height == srcHeight) return (byte[])src.Clone(); // Image.resize returns a copy
        var (boundsX, kx, ksizeX) = Coefficients(srcWidth, width);
        var (boundsY, ky, ksizeY) = Coefficients(srcHeight, height);
        byte[] image = src;
        int rows = srcHeight, firstRow = 0;
        if (width != srcWidth)
        {
            // Only the source rows the vertical pass reads.
            firstRow = boundsY[0];
            int lastRow = boundsY[(height - 1) * 2] + boundsY[(height - 1) * 2 + 1];
            rows = lastRow - firstRow;
            image = Horizontal(src, srcWidth, channels, firstRow, rows, width, boundsX, kx, ksizeX);
        }
        if (height == srcHeight) return image;
        return Vertical(image, width, channels, firstRow, height, boundsY, ky, ksizeY);
    }

    /// <summary>Pillow's precompute_coeffs + normalize_coeffs_8bpc for a box of the whole input (0..inSize).</summary>
    static (int[] Bounds, int[] Kernel, int KSize) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize, filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // bilinear's support is 1
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kernel = new int[outSize * ksize];
        var weights = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterScale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double k = ww != 0.0 ? weights[x] / ww : weights[x];
                kernel[xx * ksize + x] = k < 0 ? (int)(-0.5 + k * (1 << PrecisionBits)) : (int)(0.5 + k * (1 << PrecisionBits));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return (bounds, kernel, ksize);
    }

    static double Triangle(double x)
    {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    static byte Clip8(int value) =>
        value >= (1 << PrecisionBits << 8) ? (byte)255 : value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);

    static byte[] Horizontal(byte[] src, int srcWidth, int channels, int firstRow, int rows, int width, int[] bounds, int[] kernel, int ksize)
    {
        var dst = new byte[rows * width * channels];
        for (int y = 0; y < rows; y++)
        {
            int rowStart = (y + firstRow) * srcWidth * channels;
            for (int xx = 0; xx < width; xx++)
            {
                int xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1], k = xx * ksize;
                for (int c = 0; c < channels; c++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int x = 0; x < xmax; x++) sum += src[rowStart + (x + xmin) * channels + c] * kernel[k + x];
                    dst[(y * width + xx) * channels + c] = Clip8(sum);
                }
            }
        }
        return dst;
    }

    /// <param name="firstRow">Source row of <paramref name="src"/>'s first row (bounds are in source rows).</param>
    static byte[] Vertical(byte[] src, int width, int channels, int firstRow, int height, int[] bounds, int[] kernel, int ksize)
    {
        var dst = new byte[height * width * channels];
        int stride = width * channels;
        for (int yy = 0; yy < height; yy++)
        {
            int ymin = bounds[yy * 2] - firstRow, ymax = bounds[yy * 2 + 1], k = yy * ksize;
            for (int i = 0; i < stride; i++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int y = 0; y < ymax; y++) sum += src[(y + ymin) * stride + i] * kernel[k + y];
                dst[yy * stride + i] = Clip8(sum);
            }
        }
        return dst;
    }
}
