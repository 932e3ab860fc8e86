namespace ShiftBench;

/// <summary>
/// torchvision's ImageNet input normalisation (per RGB channel, on 0..1 pixels): what every zoo network expects,
/// the default for ONNX files and for `consistency`. Shared by Datasets and Models, hence here at the root.
/// </summary>
public static class ImageNet
{
    public static readonly double[] Mean = [0.485, 0.456, 0.406];
    public static readonly double[] Std = [0.229, 0.224, 0.225];
}
