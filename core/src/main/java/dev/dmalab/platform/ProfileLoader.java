package dev.dmalab.platform;

import dev.dmalab.cache.CacheGeometry;
import dev.dmalab.cache.SpeculativeFill;
import dev.dmalab.device.BusType;
import dev.dmalab.device.DmaRangeMap;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.iommu.TimerModel;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.PageSize;
import dev.dmalab.util.Bits;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a platform profile. Every error is an {@link InputException} naming the file, the line and
 * the field; nothing a profile says can make dmalab throw anything else.
 *
 * <p>The schema, with defaults:
 *
 * <pre>
 * name: my-soc                      # required
 * description: one line             # optional
 * arch: arm64                       # x86_64 | arm64 | arm
 * page_size: 4K                     # 4K | 16K | 64K (arm64 only for the last two)
 * cpus: 2                           # CPUs that run (1..1024)
 * possible_cpus: 2                  # num_possible_cpus(), default = cpus (sizes swiotlb areas)
 * hardware_name: "..."              # the "Hardware name:" of an Oops
 * kernel: 6.12                      # the default kernel version
 * cmdline: "swiotlb=force"          # default kernel parameters
 * lpae: false                       # arm only: CONFIG_ARM_LPAE
 * memory:
 *   ram:      [ {start: 0x40000000, size: 2G} ]
 *   reserved: [ {start: ..., size: ..., name: "kernel image"} ]   # memblock reservations, inside RAM
 *   mmio:     [ {start: ..., size: ..., name: "PCI window"} ]     # device memory, outside RAM
 * zones:
 *   dma_limit: 1G                   # the firmware's ZONE_DMA limit; 0 = no ZONE_DMA (arch default otherwise)
 * cache: {line_bytes: 64, size: 64K, ways: 4, speculation: none|next_line, modelled: auto|true|false}
 * swiotlb:
 *   slots: 16384                    # like swiotlb=16384 (a swiotlb= kernel parameter wins)
 *   areas: 2                        # like swiotlb=16384,2 (6.0+)
 *   force: true                     # like swiotlb=...,force
 *   base: 0x79800000                # where the pool sits, when known (else memblock places it)
 * devices:
 *   - name: 0000:00:03.0            # dev_name(), required, unique
 *     bus: pci                      # pci | platform | amba
 *     driver: nvme
 *     dma_mask: 64                  # width in bits, or 0xffffffff
 *     coherent_dma_mask: 64         # default = dma_mask
 *     coherent: true                # default: the arch's (x86 always coherent)
 *     bus_dma_limit: 0
 *     dma_ranges: [ {cpu: 0x0, dma: 0xc0000000, size: 1G} ]
 *     max_segment_size: 0xffffffff
 *     segment_boundary: 0xffffffff
 *     min_align_mask: 0xfff
 *     hardware_address_bits: 64
 *     coherent_pool: {phys: ..., size: ..., device_base: ...}
 *     pci_id: "1095:3132"           # vendor:device, lower-case hex
 *     description: "..."
 * xen:                              # optional: Linux runs as dom0
 *   version: "4.17"
 *   dom0: direct-mapped             # direct-mapped (arm, arm64) | pv (x86_64)
 *   machine_ram: [ {start: ..., size: ...} ]          # required, 4 KiB aligned; a 1:1 dom0's banks lie inside
 *   machine_reserved: [ {start: ..., size: ...} ]     # Xen's own
 *   cache_flush_hypercall: true     # GNTTABOP_cache_flush available
 *   pv_p2m: {machine_base: ..., chunk_pages: 512, reversed: false}   # pv only, required there
 *   domus: [ {id: 1, name: domU1, memory: 64M} ]
 * </pre>
 */
public final class ProfileLoader {
    private ProfileLoader() {}

    /** Loads a profile file. */
    public static PlatformProfile load(Path path) {
        String file = path.toString();
        if (!Files.isRegularFile(path)) {
            throw new InputException(file, 0, null, "no such profile file");
        }
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return parse(file, r);
        } catch (IOException e) {
            throw new InputException(file, 0, null, "cannot read: " + e.getMessage());
        }
    }

    /** Loads a profile from a stream (built-in resources). */
    public static PlatformProfile load(String name, InputStream in) {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            return parse(name, r);
        } catch (IOException e) {
            throw new InputException(name, 0, null, "cannot read: " + e.getMessage());
        }
    }

    /** Parses and validates profile text. */
    public static PlatformProfile parse(String file, Reader reader) {
        YamlNode root = YamlNode.parse(file, reader);
        root.checkKeys(
                "name",
                "description",
                "arch",
                "page_size",
                "cpus",
                "possible_cpus",
                "hardware_name",
                "kernel",
                "cmdline",
                "lpae",
                "memory",
                "zones",
                "cache",
                "swiotlb",
                "devices",
                "xen",
                "iommu");
        Map<String, Integer> lines = new HashMap<>();

        String name = root.string("name");
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw root.get("name").error("a platform name may use letters, digits, '.', '_' and '-' only");
        }
        String description = root.string("description", "");
        YamlNode archNode = root.get("arch");
        ArchKind arch;
        try {
            arch = ArchKind.parse(archNode.text());
        } catch (IllegalArgumentException e) {
            throw archNode.error(e.getMessage());
        }

        PageSize pageSize = PageSize.SIZE_4K;
        YamlNode ps = root.opt("page_size");
        if (ps != null) {
            try {
                pageSize = PageSize.ofBytes(ps.size());
            } catch (IllegalArgumentException e) {
                throw ps.error(e.getMessage());
            }
            if (pageSize != PageSize.SIZE_4K && arch != ArchKind.ARM64) {
                throw ps.error(arch.kernelName() + " supports only 4K pages");
            }
        }
        int cpus = root.integer("cpus", 1, 1, 1024);
        int possible = root.integer("possible_cpus", cpus, 1, 1024);
        if (possible < cpus) {
            throw root.get("possible_cpus").error("possible_cpus (" + possible + ") is below cpus (" + cpus + ")");
        }
        String hardwareName = root.string("hardware_name", name);

        KernelVersion kernel = KernelVersion.V6_12;
        YamlNode kn = root.opt("kernel");
        if (kn != null) {
            try {
                kernel = KernelVersion.parse(kn.text());
            } catch (IllegalArgumentException e) {
                throw kn.error(e.getMessage());
            }
        }
        String cmdline = root.string("cmdline", "");
        if (root.opt("cmdline") != null) {
            lines.put("cmdline", root.get("cmdline").line());
        }
        boolean lpae = root.bool("lpae", false);
        if (lpae && arch != ArchKind.ARM32) {
            throw root.get("lpae").error("lpae applies to arch arm only");
        }

        YamlNode mem = root.get("memory").checkKeys("ram", "reserved", "mmio");
        List<PlatformProfile.Range> ram = ranges(mem.get("ram"), true);
        List<PlatformProfile.Range> reserved = mem.has("reserved") ? ranges(mem.get("reserved"), false) : List.of();
        List<PlatformProfile.Range> mmio = mem.has("mmio") ? ranges(mem.get("mmio"), false) : List.of();
        validateMemory(mem, ram, reserved, mmio, pageSize);

        long zoneDmaLimit = defaultZoneDmaLimit(arch);
        YamlNode zones = root.opt("zones");
        if (zones != null) {
            zones.checkKeys("dma_limit");
            if (zones.has("dma_limit")) {
                zoneDmaLimit = zones.size("dma_limit");
                if (zoneDmaLimit != 0 && !Bits.isPowerOfTwo(zoneDmaLimit)) {
                    throw zones.get("dma_limit").error("expected a power of two (16M, 1G, 4G) or 0");
                }
            }
        }

        PlatformProfile.CacheSpec cache = cache(root.opt("cache"));

        long swiotlbBase = -1;
        String swiotlbDefault = "";
        YamlNode sw = root.opt("swiotlb");
        if (sw != null) {
            sw.checkKeys("base", "slots", "areas", "force");
            long slots = sw.size("slots", 0);
            if (sw.has("slots") && (slots < 1 || slots > (1L << 30))) {
                throw sw.get("slots")
                        .error("expected a slot count in [1, 2^30], got "
                                + sw.get("slots").text());
            }
            int areas = sw.integer("areas", 0, 1, 1024);
            boolean force = sw.bool("force", false);
            if (sw.has("slots") || sw.has("areas") || force) {
                StringBuilder v = new StringBuilder(slots > 0 ? Long.toString(slots) : "");
                if (areas > 0) {
                    v.append(',').append(areas);
                }
                if (force) {
                    v.append(v.length() > 0 ? "," : "").append("force");
                }
                swiotlbDefault = v.toString();
                lines.put("swiotlb", sw.line());
            }
            if (sw.has("base")) {
                YamlNode b = sw.get("base");
                swiotlbBase = b.size();
                lines.put("swiotlb.base", b.line());
                if (swiotlbBase % pageSize.bytes() != 0) {
                    throw b.error("the swiotlb pool base must be page aligned");
                }
                long base = swiotlbBase;
                boolean inRam = ram.stream().anyMatch(r -> base >= r.start() && base < r.end());
                if (!inRam) {
                    throw b.error("the swiotlb pool base " + Bits.hex0x(base) + " is outside RAM");
                }
            }
        }

        List<PlatformProfile.DeviceSpec> devices = new ArrayList<>();
        YamlNode devs = root.opt("devices");
        Set<String> names = new HashSet<>();
        if (devs != null) {
            for (YamlNode d : devs.elements()) {
                PlatformProfile.DeviceSpec spec = device(d, arch, ram, mmio, lines);
                if (!names.add(spec.name())) {
                    throw d.get("name").error("duplicate device name " + spec.name());
                }
                devices.add(spec);
            }
        }
        PlatformProfile.XenSpec xen = root.has("xen") ? xen(root.get("xen"), arch, ram, pageSize, lines) : null;
        PlatformProfile.IommuSpec iommu = root.has("iommu") ? iommu(root.get("iommu"), arch, lines) : null;
        if (iommu != null && xen != null) {
            throw root.get("iommu").error("an IOMMU under a Xen dom0 is Xen's, not dom0's: not modelled");
        }
        return new PlatformProfile(
                name,
                description,
                file,
                arch,
                pageSize,
                cpus,
                possible,
                hardwareName,
                ram,
                reserved,
                mmio,
                zoneDmaLimit,
                cache,
                kernel,
                cmdline,
                swiotlbBase,
                swiotlbDefault,
                lpae,
                List.copyOf(devices),
                xen,
                iommu,
                Map.copyOf(lines));
    }

    /** The {@code iommu:} section. */
    private static PlatformProfile.IommuSpec iommu(YamlNode x, ArchKind arch, Map<String, Integer> lines) {
        x.checkKeys(
                "kind",
                "name",
                "address_bits",
                "granule",
                "enabled_by_default",
                "default_domain",
                "flush_timer",
                "host_bridge_windows",
                "groups",
                "default_reserved");
        String kind = x.string("kind");
        if (!kind.equals("intel-vtd") && !kind.equals("arm-smmu-v3")) {
            throw x.get("kind").error("expected intel-vtd or arm-smmu-v3, got " + kind);
        }
        if (kind.equals("intel-vtd") != (arch == ArchKind.X86_64)) {
            throw x.get("kind").error(kind + " does not exist on " + arch.kernelName());
        }
        int bits = x.integer("address_bits", 48, 32, 64);
        long granule = x.size("granule", 4096);
        int shift;
        if (granule == 4096) {
            shift = 12;
        } else if ((granule == 16384 || granule == 65536) && kind.equals("arm-smmu-v3")) {
            shift = granule == 16384 ? 14 : 16;
        } else {
            throw x.get("granule")
                    .error(
                            kind.equals("intel-vtd")
                                    ? "VT-d has a 4K granule only"
                                    : "expected 4K, 16K or 64K, got "
                                            + x.get("granule").text());
        }
        String dflt = x.string("default_domain", "lazy");
        if (!dflt.equals("lazy") && !dflt.equals("strict") && !dflt.equals("identity")) {
            throw x.get("default_domain").error("expected lazy, strict or identity, got " + dflt);
        }
        String timer = x.string("flush_timer", "jiffies:250");
        if (x.has("flush_timer")) {
            try {
                TimerModel.parse(timer);
            } catch (IllegalArgumentException e) {
                throw x.get("flush_timer").error(e.getMessage());
            }
        }
        List<PlatformProfile.Range> windows =
                x.has("host_bridge_windows") ? ranges(x.get("host_bridge_windows"), false) : List.of();
        List<PlatformProfile.GroupSpec> groups = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        Set<String> grouped = new HashSet<>();
        if (x.has("groups")) {
            for (YamlNode g : x.get("groups").elements()) {
                g.checkKeys("id", "devices", "reserved");
                int id = g.integer("id", 0, 0, 1 << 20);
                if (!ids.add(id)) {
                    throw g.get("id").error("duplicate IOMMU group " + id);
                }
                List<String> devs = new ArrayList<>();
                for (YamlNode d : g.get("devices").elements()) {
                    String n = d.text();
                    if (!grouped.add(n)) {
                        throw d.error("device " + n + " is in two IOMMU groups");
                    }
                    devs.add(n);
                }
                if (devs.isEmpty()) {
                    throw g.get("devices").error("a group needs at least one device");
                }
                List<PlatformProfile.ReservedSpec> resv = g.has("reserved") ? reserved(g.get("reserved")) : List.of();
                groups.add(new PlatformProfile.GroupSpec(id, List.copyOf(devs), resv));
            }
        }
        List<PlatformProfile.ReservedSpec> dfltResv =
                x.has("default_reserved") ? reserved(x.get("default_reserved")) : List.of();
        lines.put("iommu", x.line());
        return new PlatformProfile.IommuSpec(
                kind,
                x.string("name", kind.equals("intel-vtd") ? "dmar0" : "smmu3.0"),
                bits,
                shift,
                x.bool("enabled_by_default", kind.equals("arm-smmu-v3")),
                dflt,
                timer,
                windows,
                List.copyOf(groups),
                dfltResv);
    }

    private static List<PlatformProfile.ReservedSpec> reserved(YamlNode list) {
        List<PlatformProfile.ReservedSpec> out = new ArrayList<>();
        for (YamlNode r : list.elements()) {
            r.checkKeys("start", "size", "type");
            long start = r.size("start");
            long size = r.size("size");
            if (size <= 0 || start < 0 || start + size < start) {
                throw r.error("a reserved region needs a positive size inside the 63-bit address space");
            }
            String type = r.string("type", "reserved");
            try {
                DmaIommu.ReservedType.parse(type);
            } catch (IllegalArgumentException e) {
                throw r.get("type").error(e.getMessage());
            }
            out.add(new PlatformProfile.ReservedSpec(start, size, type));
        }
        return List.copyOf(out);
    }

    /** The {@code xen:} section: the hypervisor under a dom0 profile. */
    private static PlatformProfile.XenSpec xen(
            YamlNode x, ArchKind arch, List<PlatformProfile.Range> ram, PageSize pageSize, Map<String, Integer> lines) {
        x.checkKeys("version", "dom0", "machine_ram", "machine_reserved", "cache_flush_hypercall", "pv_p2m", "domus");
        String version = x.string("version", "4.17");
        String dom0 = x.string("dom0", arch == ArchKind.X86_64 ? "pv" : "direct-mapped");
        boolean direct;
        if (dom0.equals("direct-mapped")) {
            direct = true;
        } else if (dom0.equals("pv")) {
            direct = false;
        } else {
            throw x.get("dom0").error("expected direct-mapped or pv, got " + dom0);
        }
        if (direct == (arch == ArchKind.X86_64)) {
            throw x.get("dom0")
                    .error(
                            arch == ArchKind.X86_64
                                    ? "an x86 dom0 is PV (dom0: pv)"
                                    : "an arm dom0 is mapped 1:1 (dom0: direct-mapped)");
        }
        List<PlatformProfile.Range> machineRam = ranges(x.get("machine_ram"), true);
        List<PlatformProfile.Range> machineReserved =
                x.has("machine_reserved") ? ranges(x.get("machine_reserved"), false) : List.of();
        List<YamlNode> mrNodes = x.get("machine_ram").elements();
        for (int i = 0; i < machineRam.size(); i++) {
            PlatformProfile.Range r = machineRam.get(i);
            if (r.start() % 4096 != 0 || r.size() % 4096 != 0) {
                throw mrNodes.get(i).error("machine RAM must be 4 KiB aligned");
            }
        }
        if (direct) {
            for (PlatformProfile.Range r : ram) {
                boolean inside = machineRam.stream().anyMatch(m -> r.start() >= m.start() && r.end() <= m.end());
                if (!inside) {
                    throw x.get("machine_ram")
                            .error("dom0's RAM bank " + Bits.hex0x(r.start()) + "-" + Bits.hex0x(r.end() - 1)
                                    + " is not inside machine RAM (a 1:1 dom0's banks are machine memory)");
                }
            }
        }
        long pvBase = 0;
        int pvChunk = 1;
        boolean pvReversed = false;
        if (!direct) {
            YamlNode pv = x.get("pv_p2m").checkKeys("machine_base", "chunk_pages", "reversed");
            pvBase = pv.size("machine_base");
            pvChunk = pv.integer("chunk_pages", 1, 1, 1 << 18);
            pvReversed = pv.bool("reversed", false);
            if (pvBase % 4096 != 0) {
                throw pv.get("machine_base").error("must be 4 KiB aligned");
            }
            long frames = 0;
            for (PlatformProfile.Range r : ram) {
                frames = Math.max(frames, r.end() >>> 12);
            }
            if (frames % pvChunk != 0) {
                throw pv.get("chunk_pages")
                        .error(frames + " pseudo-physical frames are not a whole number of " + pvChunk
                                + "-page chunks");
            }
            long end = pvBase + (frames << 12);
            long base = pvBase;
            boolean inside = machineRam.stream().anyMatch(m -> base >= m.start() && end <= m.end());
            if (!inside) {
                throw pv.get("machine_base")
                        .error("dom0's " + frames + " frames from " + Bits.hex0x(pvBase)
                                + " do not fit in one machine RAM range");
            }
        } else if (x.has("pv_p2m")) {
            throw x.get("pv_p2m").error("pv_p2m applies to a PV dom0 only");
        }
        List<PlatformProfile.DomUSpec> domUs = new ArrayList<>();
        if (x.has("domus")) {
            Set<Integer> ids = new HashSet<>();
            for (YamlNode d : x.get("domus").elements()) {
                d.checkKeys("id", "name", "memory");
                int id = d.integer("id", 1, 1, 32767);
                if (!ids.add(id)) {
                    throw d.get("id").error("duplicate domain id " + id);
                }
                long mem = d.size("memory");
                if (mem <= 0 || mem % 4096 != 0) {
                    throw d.get("memory").error("a domU needs a positive, 4 KiB aligned memory size");
                }
                domUs.add(new PlatformProfile.DomUSpec(id, d.string("name", "domU" + id), mem));
            }
        }
        lines.put("xen", x.line());
        return new PlatformProfile.XenSpec(
                version,
                direct,
                machineRam,
                machineReserved,
                x.bool("cache_flush_hypercall", true),
                pvBase,
                pvChunk,
                pvReversed,
                List.copyOf(domUs));
    }

    /** The firmware DMA zone limit an arch assumes when the profile says nothing. */
    static long defaultZoneDmaLimit(ArchKind arch) {
        return switch (arch) {
            case X86_64 -> 16L << 20;
            case ARM64 -> 1L << 32;
            case ARM32 -> 0;
        };
    }

    private static List<PlatformProfile.Range> ranges(YamlNode list, boolean required) {
        List<PlatformProfile.Range> out = new ArrayList<>();
        List<YamlNode> els = list.elements();
        if (required && els.isEmpty()) {
            throw list.error("at least one range is required");
        }
        for (YamlNode r : els) {
            r.checkKeys("start", "size", "name");
            long start = r.size("start");
            long size = r.size("size");
            if (size <= 0) {
                throw r.get("size").error("a range needs a positive size");
            }
            if (start < 0 || start + size < start) {
                throw r.error("the range exceeds the 63-bit physical address space");
            }
            out.add(new PlatformProfile.Range(start, size, r.string("name", list.path())));
        }
        return out;
    }

    private static void validateMemory(
            YamlNode mem,
            List<PlatformProfile.Range> ram,
            List<PlatformProfile.Range> reserved,
            List<PlatformProfile.Range> mmio,
            PageSize pageSize) {
        List<YamlNode> ramNodes = mem.get("ram").elements();
        for (int i = 0; i < ram.size(); i++) {
            PlatformProfile.Range r = ram.get(i);
            if (r.start() % pageSize.bytes() != 0 || r.size() % pageSize.bytes() != 0) {
                throw ramNodes.get(i)
                        .error("RAM bank " + Bits.hex0x(r.start()) + "+" + Bits.hex0x(r.size())
                                + " is not aligned to the " + pageSize + " page size");
            }
            for (int j = 0; j < i; j++) {
                PlatformProfile.Range o = ram.get(j);
                if (r.start() < o.end() && o.start() < r.end()) {
                    throw ramNodes.get(i)
                            .error("RAM bank " + Bits.hex0x(r.start()) + "-" + Bits.hex0x(r.end() - 1)
                                    + " overlaps bank " + Bits.hex0x(o.start()) + "-" + Bits.hex0x(o.end() - 1));
                }
            }
        }
        if (mem.has("reserved")) {
            List<YamlNode> resNodes = mem.get("reserved").elements();
            for (int i = 0; i < reserved.size(); i++) {
                PlatformProfile.Range r = reserved.get(i);
                boolean inside = ram.stream().anyMatch(b -> r.start() >= b.start() && r.end() <= b.end());
                if (!inside) {
                    throw resNodes.get(i)
                            .error("reserved range " + Bits.hex0x(r.start()) + "-" + Bits.hex0x(r.end() - 1)
                                    + " is not inside one RAM bank");
                }
            }
        }
        if (mem.has("mmio")) {
            List<YamlNode> mmioNodes = mem.get("mmio").elements();
            for (int i = 0; i < mmio.size(); i++) {
                PlatformProfile.Range m = mmio.get(i);
                for (PlatformProfile.Range r : ram) {
                    if (m.start() < r.end() && r.start() < m.end()) {
                        throw mmioNodes
                                .get(i)
                                .error("MMIO range " + Bits.hex0x(m.start()) + "-" + Bits.hex0x(m.end() - 1)
                                        + " overlaps RAM");
                    }
                }
                for (int j = 0; j < i; j++) {
                    PlatformProfile.Range o = mmio.get(j);
                    if (m.start() < o.end() && o.start() < m.end()) {
                        throw mmioNodes.get(i).error("MMIO range overlaps " + o.name());
                    }
                }
            }
        }
        List<PlatformProfile.Range> sorted = new ArrayList<>(ram);
        sorted.sort(Comparator.comparingLong(PlatformProfile.Range::start));
        ram.clear();
        ram.addAll(sorted);
    }

    private static PlatformProfile.CacheSpec cache(YamlNode c) {
        CacheGeometry d = CacheGeometry.DEFAULT;
        if (c == null) {
            return new PlatformProfile.CacheSpec(d.lineBytes(), d.sizeBytes(), d.ways(), SpeculativeFill.NONE, null);
        }
        c.checkKeys("line_bytes", "size", "ways", "speculation", "modelled");
        int line = (int) c.size("line_bytes", d.lineBytes());
        long size = c.size("size", d.sizeBytes());
        int ways = c.integer("ways", d.ways(), 1, 32);
        if (size > Integer.MAX_VALUE) {
            throw c.get("size").error("cache size too large");
        }
        try {
            new CacheGeometry(line, (int) size, ways);
        } catch (IllegalArgumentException e) {
            throw c.error(e.getMessage());
        }
        SpeculativeFill spec = SpeculativeFill.NONE;
        YamlNode s = c.opt("speculation");
        if (s != null) {
            spec = switch (s.text().toLowerCase(Locale.ROOT)) {
                case "none" -> SpeculativeFill.NONE;
                case "next_line", "next-line" -> SpeculativeFill.NEXT_LINE;
                default -> throw s.error("expected none or next_line, got " + s.text());
            };
        }
        Boolean modelled = null;
        YamlNode m = c.opt("modelled");
        if (m != null && !m.text().equals("auto")) {
            modelled = c.bool("modelled", false);
        }
        return new PlatformProfile.CacheSpec(line, (int) size, ways, spec, modelled);
    }

    private static PlatformProfile.DeviceSpec device(
            YamlNode d,
            ArchKind arch,
            List<PlatformProfile.Range> ram,
            List<PlatformProfile.Range> mmio,
            Map<String, Integer> lines) {
        d.checkKeys(
                "name",
                "bus",
                "driver",
                "description",
                "dma_mask",
                "coherent_dma_mask",
                "coherent",
                "bus_dma_limit",
                "dma_ranges",
                "max_segment_size",
                "segment_boundary",
                "min_align_mask",
                "hardware_address_bits",
                "coherent_pool",
                "pci_id");
        String name = d.string("name");
        String pciId = d.string("pci_id", "");
        if (!pciId.isEmpty() && !pciId.matches("[0-9a-f]{4}:[0-9a-f]{4}")) {
            throw d.get("pci_id").error("expected vendor:device in lower-case hex, e.g. 1095:3132");
        }
        BusType bus = BusType.PCI;
        YamlNode b = d.opt("bus");
        if (b != null) {
            try {
                bus = BusType.parse(b.text());
            } catch (IllegalArgumentException e) {
                throw b.error(e.getMessage());
            }
        }
        long mask = d.get("dma_mask").mask();
        long cmask = d.has("coherent_dma_mask") ? d.get("coherent_dma_mask").mask() : mask;
        Boolean coherent = null;
        if (d.has("coherent")) {
            coherent = d.bool("coherent", true);
            if (!coherent && arch == ArchKind.X86_64) {
                throw d.get("coherent").error("x86 devices are always cache coherent");
            }
        }
        // bus_dma_limit (5.5+) is the highest reachable bus address, not necessarily a mask (RPi4: 0xbfffffff).
        long busLimit = d.size("bus_dma_limit", 0);
        List<DmaRangeMap.Region> dmaRanges = new ArrayList<>();
        if (d.has("dma_ranges")) {
            lines.put(d.path() + ".dma_ranges", d.get("dma_ranges").line()); // boot rejects several before 5.10
            for (YamlNode r : d.get("dma_ranges").elements()) {
                r.checkKeys("cpu", "dma", "size");
                long size = r.size("size");
                if (size <= 0) {
                    throw r.get("size").error("a dma-range needs a positive size");
                }
                dmaRanges.add(new DmaRangeMap.Region(r.size("cpu"), r.size("dma"), size));
            }
        }
        long maxSeg = d.size("max_segment_size", 0);
        long boundary = 0;
        if (d.has("segment_boundary")) {
            boundary = d.get("segment_boundary").mask();
        }
        long minAlign = 0;
        if (d.has("min_align_mask")) {
            YamlNode ma = d.get("min_align_mask");
            minAlign = ma.size();
            if (minAlign != 0 && Bits.maskWidth(minAlign) <= 0) {
                throw ma.error("min_align_mask must be all ones from bit 0 (like 0xfff), got " + ma.text());
            }
        }
        int hwBits = d.integer("hardware_address_bits", Bits.maskWidth(mask), 1, 64);
        PlatformProfile.PoolSpec pool = null;
        if (d.has("coherent_pool")) {
            YamlNode p = d.get("coherent_pool").checkKeys("phys", "size", "device_base");
            long phys = p.size("phys");
            long size = p.size("size");
            boolean inRam = ram.stream().anyMatch(r -> phys >= r.start() && phys + size <= r.end());
            boolean inMmio = mmio.stream().anyMatch(r -> phys >= r.start() && phys + size <= r.end());
            if (!inRam && !inMmio) {
                throw p.error("the coherent pool " + Bits.hex0x(phys) + "+" + Bits.hex0x(size)
                        + " is neither inside a RAM bank nor inside an MMIO range");
            }
            pool = new PlatformProfile.PoolSpec(phys, size, p.size("device_base", -1));
        }
        return new PlatformProfile.DeviceSpec(
                name,
                bus,
                d.string("driver", null),
                mask,
                cmask,
                coherent,
                busLimit,
                List.copyOf(dmaRanges),
                maxSeg,
                boundary,
                minAlign,
                pool,
                hwBits,
                pciId,
                d.string("description", ""));
    }
}
