// MSBuild task: marks chosen symbol-version needs of an ELF64 shared library as weak
// (.gnu.version_r, vna_flags |= VER_FLG_WEAK) so the loader accepts a libstdc++ that lacks them.
// Why: TorchSharp 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 only for the marker symbol
// std::ios_base_library_init, which it never calls; Debian 12 ships GCC 12's libstdc++ (3.4.30).
// Only the copy in the build output is patched; the NuGet cache and system libraries stay untouched.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class ElfWeakVersionNeed : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Versions { get; set; } = "";

    public override bool Execute()
    {
        var wanted = Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            try
            {
                int changed = Patch(path, wanted);
                if (changed > 0) Log.LogMessage(MessageImportance.High, $"ElfWeakVersionNeed: marked {changed} version need(s) weak in {path}");
            }
            catch (Exception e)
            {
                Log.LogError($"ElfWeakVersionNeed: cannot patch {path}: {e.Message}");
                return false;
            }
        }
        return true;
    }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static int Patch(string path, string[] wanted)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only little-endian ELF64 is supported");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int offset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            uint link = BitConverter.ToUInt32(elf, sh + 0x28);
            uint count = BitConverter.ToUInt32(elf, sh + 0x2C); // sh_info: number of Verneed entries
            int strSh = checked((int)shoff + (int)link * shentsize);
            int strOffset = checked((int)BitConverter.ToUInt64(elf, strSh + 0x18));

            int need = offset;
            for (uint n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = ReadCString(elf, strOffset + (int)BitConverter.ToUInt32(elf, aux + 8));
                    ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                    if (Array.IndexOf(wanted, name) >= 0 && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, aux + 4);
                        changed++;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        if (changed > 0)
        {
            string tmp = path + ".patching";
            File.WriteAllBytes(tmp, elf);
            File.Copy(tmp, path, true);
            File.Delete(tmp);
        }
        return changed;
    }

    static string ReadCString(byte[] data, int at)
    {
        int end = Array.IndexOf(data, (byte)0, at);
        return Encoding.ASCII.GetString(data, at, end - at);
    }
}
