namespace ShiftBench.Datasets;

/// <summary>
/// OpenCV's 8-bit <c>cv::resize(src, dst, Size(w, h), 0, 0, INTER_LINEAR)</c>, bit for bit: the study's images are
/// exactly its output. Written from OpenCV 4.6's modules/imgproc/src/resize.cpp (cv::resize, hal::resize,
/// HResizeLinear, VResizeLinear&lt;uchar, int, short, ...&gt;, resizeAreaFast_) and checked byte for byte against
/// Debian's python3-opencv 4.6 (tools/fixtures/make_resize_fixtures.py). Images are interleaved as OpenCV holds
/// them: row-major, channels last, 1 to 4 channels.
/// </summary>
public static class OpenCvResize
{
    /// <summary>INTER_RESIZE_COEF_BITS: 8-bit resizing uses interpolation weights rounded to multiples of 2^-11.</summary>
    const int CoefBits = 11;
    const int CoefScale = 1 << CoefBits;

    /// <summary>Resizes an interleaved 8-bit image (srcHeight x srcWidth x channels bytes) to dstWidth x dstHeight.</summary>
    public static byte[] Resize(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int channels, int dstWidth, int dstHeight)
    {
        if (srcWidth < 1 || srcHeight < 1 || dstWidth < 1 || dstHeight < 1)
            throw new ArgumentOutOfRangeException(nameof(dstWidth), $"sizes must be positive: {srcWidth}x{srcHeight} -> {dstWidth}x{dstHeight}");
        if (channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(channels), $"1 to 4 channels are supported, not {channels}");
        if (src.Length != srcWidth * srcHeight * channels)
            throw new ArgumentException($"expected {srcWidth}x{srcHeight}x{channels} = {srcWidth * srcHeight * channels} bytes, got {src.Length}", nameof(src));

        // cv::resize: an unchanged size is a plain copy.
        if (srcWidth == dstWidth && srcHeight == dstHeight) return src.ToArray();

        // cv::resize passes inv_scale = dsize / ssize; hal::resize works with scale = 1 / inv_scale, which can
        // differ in the last bit from ssize / dsize, so compute it the same way.
        double scaleX = 1.0 / ((double)dstWidth / srcWidth);
        double scaleY = 1.0 / ((double)dstHeight / srcHeight);

        // hal::resize: INTER_LINEAR with both scales exactly 2 goes to INTER_AREA's fast path (2x2 block means).
        if (IsExactly2(scaleX) && IsExactly2(scaleY))
            return HalveByArea(src, srcWidth, channels, dstWidth, dstHeight);
        return Linear(src, srcWidth, srcHeight, channels, dstWidth, dstHeight, scaleX, scaleY);
    }

    /// <summary>hal::resize's test: is_area_fast (|scale - cvRound(scale)| &lt; DBL_EPSILON) and cvRound(scale) == 2.</summary>
    static bool IsExactly2(double scale) => Math.Abs(scale - 2.0) < DblEpsilon;

    /// <summary>C's DBL_EPSILON (not .NET's double.Epsilon, the smallest subnormal).</summary>
    const double DblEpsilon = 2.220446049250313e-16;

    /// <summary>
    /// resizeAreaFast_ for a 2x2 decimation. With 1, 3 or 4 channels the vectorised ResizeAreaFastVec rounds the
    /// 4-pixel sum half up, (sum + 2) &gt;&gt; 2; other channel counts take the generic loop,
    /// saturate_cast&lt;uchar&gt;(sum * 0.25f), which rounds half to even.
    /// </summary>
    static byte[] HalveByArea(ReadOnlySpan<byte> src, int srcWidth, int cn, int dstWidth, int dstHeight)
    {
        var dst = new byte[dstWidth * dstHeight * cn];
        int srcRow = srcWidth * cn, dstRow = dstWidth * cn;
        bool halfUp = cn != 2;
        for (int dy = 0; dy < dstHeight; dy++)
        {
            var top = src.Slice(2 * dy * srcRow, srcRow);
            var bottom = src.Slice((2 * dy + 1) * srcRow, srcRow);
            for (int dx = 0; dx < dstWidth; dx++)
                for (int k = 0; k < cn; k++)
                {
                    int i = 2 * dx * cn + k;
                    int sum = top[i] + top[i + cn] + bottom[i] + bottom[i + cn];
                    dst[dy * dstRow + dx * cn + k] = halfUp ? (byte)((sum + 2) >> 2) : (byte)MathF.Round(sum * 0.25f);
                }
        }
        return dst;
    }

    /// <summary>
    /// The generic INTER_LINEAR path (resizeGeneric_ with HResizeLinear and the 8-bit VResizeLinear): a horizontal
    /// pass into int rows scaled by 2^11, then a vertical pass in fixed point.
    /// </summary>
    static byte[] Linear(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int cn, int dstWidth, int dstHeight, double scaleX, double scaleY)
    {
        // Column table (hal::resize): half-pixel centres, fx = (dx + 0.5) * scale - 0.5 rounded to float, its floor
        // and fraction in float. Columns left of the image use the first source column with weights (1, 0);
        // from the first column whose right neighbour is outside the image (xmax) on, HResizeLinear takes the
        // last source column times 2^11 and ignores the weights.
        var xofs = new int[dstWidth];
        var alpha = new short[2 * dstWidth];
        int xmax = dstWidth;
        for (int dx = 0; dx < dstWidth; dx++)
        {
            float fx = (float)((dx + 0.5) * scaleX - 0.5);
            int sx = (int)MathF.Floor(fx);
            fx -= sx;
            if (sx < 0) { fx = 0; sx = 0; }
            if (sx + 1 >= srcWidth)
            {
                xmax = Math.Min(xmax, dx);
                fx = 0; sx = srcWidth - 1;
            }
            xofs[dx] = sx;
            alpha[2 * dx] = Coefficient(1f - fx);
            alpha[2 * dx + 1] = Coefficient(fx);
        }

        // Row table: the same formula, but rows are not clamped here: the weights keep the unclamped fraction
        // and only the source row indices are clamped (ResizeLikeInvoker's clip), so a row above or below the
        // image gets the edge row twice with the original weights.
        var yofs = new int[dstHeight];
        var beta = new short[2 * dstHeight];
        for (int dy = 0; dy < dstHeight; dy++)
        {
            float fy = (float)((dy + 0.5) * scaleY - 0.5);
            int sy = (int)MathF.Floor(fy);
            fy -= sy;
            yofs[dy] = sy;
            beta[2 * dy] = Coefficient(1f - fy);
            beta[2 * dy + 1] = Coefficient(fy);
        }

        int width = dstWidth * cn, srcRow = srcWidth * cn;
        var rows = new int[srcHeight][]; // horizontal pass of each source row, made once when first needed
        int[] Row(ReadOnlySpan<byte> image, int y) =>
            rows[y] ??= HorizontalPass(image.Slice(y * srcRow, srcRow), xofs, alpha, xmax, cn);

        var dst = new byte[width * dstHeight];
        for (int dy = 0; dy < dstHeight; dy++)
        {
            int sy = yofs[dy];
            var h0 = Row(src, Math.Clamp(sy, 0, srcHeight - 1));
            var h1 = Row(src, Math.Clamp(sy + 1, 0, srcHeight - 1));
            int b0 = beta[2 * dy], b1 = beta[2 * dy + 1];
            int o = dy * width;
            // VResizeLinear<uchar, int, short, FixedPtCast<int, uchar, 22>>: each product is taken to 16 bits
            // ((S >> 4) * b >> 16) before the sum is rounded half up by (+2) >> 2; the result is cast, not saturated.
            for (int x = 0; x < width; x++)
                dst[o + x] = unchecked((byte)((((b0 * (h0[x] >> 4)) >> 16) + ((b1 * (h1[x] >> 4)) >> 16) + 2) >> 2));
        }
        return dst;
    }

    /// <summary>
    /// HResizeLinear on one source row: S[sx] * a0 + S[sx + 1] * a1 per channel (integers scaled by 2^11); from
    /// xmax on, the last source pixel times 2^11.
    /// </summary>
    static int[] HorizontalPass(ReadOnlySpan<byte> s, int[] xofs, short[] alpha, int xmax, int cn)
    {
        int dstWidth = xofs.Length;
        var d = new int[dstWidth * cn];
        for (int dx = 0; dx < dstWidth; dx++)
        {
            int sx = xofs[dx] * cn, o = dx * cn;
            if (dx < xmax)
            {
                int a0 = alpha[2 * dx], a1 = alpha[2 * dx + 1];
                for (int k = 0; k < cn; k++) d[o + k] = s[sx + k] * a0 + s[sx + k + cn] * a1;
            }
            else
                for (int k = 0; k < cn; k++) d[o + k] = s[sx + k] * CoefScale;
        }
        return d;
    }

    /// <summary>saturate_cast&lt;short&gt;(w * INTER_RESIZE_COEF_SCALE): float product, rounded half to even (cvRound).</summary>
    static short Coefficient(float weight) => (short)Math.Clamp((int)MathF.Round(weight * CoefScale), short.MinValue, short.MaxValue);
}
