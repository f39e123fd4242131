package dev.dmalab.replay;

import dev.dmalab.device.BusType;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.KernelCmdline;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.swiotlb.SwiotlbBoot;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The machine a trace is replayed on: a platform profile refined by the files of the machine that was traced, each
 * parameter with where it came from. Order of authority, per parameter:
 *
 * <ul>
 *   <li><b>command line</b> ({@code /proc/cmdline}): replaces the profile's; a what-if's extra parameters are
 *       appended last and win;
 *   <li><b>RAM</b>: {@code /proc/iomem}'s top-level System RAM ranges, else the profile's (the profile's reserved and
 *       MMIO ranges are kept where they still fit);
 *   <li><b>CPUs</b>: the kernel log's {@code smp: Brought up … N CPUs}, else the profile's;
 *   <li><b>devices</b>: a device list's {@code dma_mask_bits} and driver, else the profile's; a device neither names
 *       is added when the trace first shows it ({@link TraceReplay});
 *   <li><b>swiotlb pool</b>: geometry and base from the kernel log's {@code software IO TLB: area num} and {@code
 *       mapped [mem …]} lines where printed; otherwise the model's sizing rules, and the base derived from the
 *       trace's first bounced mapping by the pool-base rule ({@link PoolBase}); with neither, the model's memblock
 *       placement. A what-if that sets {@code swiotlb=} ignores what the log says about the pool.
 * </ul>
 *
 * Nothing here knows particular capture files: every rule reads the kernel's own output.
 */
public final class ReplaySetup {
    /**
     * The IOMMU of the traced machine: the host bridge's memory windows ({@code root bus resource [mem ...]}) and the
     * input address width ({@code DMAR: Host address width}) from its log when it printed them, else the profile's.
     */
    private static PlatformProfile.IommuSpec refineIommu(
            PlatformProfile base, MachineFiles.Dmesg log, FileText dmesg, List<Source> src) {
        PlatformProfile.IommuSpec spec = base.iommu();
        List<PlatformProfile.Range> windows = spec.hostBridgeWindows();
        int bits = spec.addressBits();
        if (log != null && !log.hostBridgeWindows().isEmpty()) {
            windows = log.hostBridgeWindows();
            src.add(new Source(
                    "host bridge windows",
                    windows.size() + " reserved in every PCI domain",
                    dmesg.name() + ":" + log.windowsLine()));
        } else {
            src.add(new Source("host bridge windows", windows.size() + " reserved in every PCI domain", base.file()));
        }
        if (log != null && log.iommuAddressBits() > 0) {
            bits = log.iommuAddressBits();
            src.add(new Source("iommu address width", bits + " bits", dmesg.name() + ":" + log.iommuAddressBitsLine()));
        } else {
            src.add(new Source("iommu address width", bits + " bits", base.file()));
        }
        return spec.refined(bits, windows, spec.groups());
    }

    /** Where one parameter of the replayed machine came from. */
    public record Source(String parameter, String value, String from) {}

    private final PlatformProfile profile;
    private final KernelVersion version;
    private final Machine.BootOptions options;
    private final List<Source> sources;

    private ReplaySetup(PlatformProfile profile, KernelVersion version, Machine.BootOptions options, List<Source> s) {
        this.profile = profile;
        this.version = version;
        this.options = options;
        this.sources = List.copyOf(s);
    }

    public PlatformProfile profile() {
        return profile;
    }

    public KernelVersion version() {
        return version;
    }

    public Machine.BootOptions options() {
        return options;
    }

    public List<Source> sources() {
        return sources;
    }

    /** A fresh machine as set up. */
    public Machine boot() {
        return Machine.boot(profile, version, options);
    }

    /** A fresh machine with {@code moreCmdline} appended (the sizing oracle's smaller pools). */
    public Machine boot(String moreCmdline) {
        return Machine.boot(profile, version, options.withCmdline(options.extraCmdline() + " " + moreCmdline));
    }

    /** A named input file's text. */
    public record FileText(String name, String text) {}

    /**
     * Builds the set-up.
     *
     * @param cmdline the traced machine's {@code /proc/cmdline}, or null
     * @param iomem its {@code /proc/iomem}, or null
     * @param dmesg its kernel log, or null
     * @param devices its device list, or null
     * @param whatIf kernel parameters appended last ("" for none)
     * @param trace opens the trace again for the pool-base rule (null: not available)
     */
    public static ReplaySetup create(
            PlatformProfile base,
            KernelVersion version,
            FileText cmdline,
            FileText iomem,
            FileText dmesg,
            FileText devices,
            String whatIf,
            Supplier<FtraceParser> trace) {
        return create(base, version, cmdline, iomem, dmesg, devices, whatIf, trace, true);
    }

    /** {@link #create}, with the trace's {@code min_align_mask} evidence read or (tests only) ignored. */
    static ReplaySetup create(
            PlatformProfile base,
            KernelVersion version,
            FileText cmdline,
            FileText iomem,
            FileText dmesg,
            FileText devices,
            String whatIf,
            Supplier<FtraceParser> trace,
            boolean minAlignFromTrace) {
        List<Source> src = new ArrayList<>();
        src.add(new Source("platform", base.name(), base.file()));
        src.add(new Source(
                "kernel", version.toString(), version.equals(base.defaultKernel()) ? base.file() : "--kernel"));

        // Command line
        String cmd = base.cmdline();
        String cmdFrom = base.cmdline().isEmpty() ? "none" : base.file();
        if (cmdline != null) {
            cmd = MachineFiles.cmdline(cmdline.name(), cmdline.text());
            cmdFrom = cmdline.name();
        }
        KernelCmdline kc = KernelCmdline.parse(cmd).append(whatIf);
        for (String key : KernelCmdline.INTERPRETED) {
            String v = kc.get(key);
            if (v == null) {
                continue;
            }
            boolean fromWhatIf = KernelCmdline.parse(whatIf).get(key) != null;
            String from = fromWhatIf ? "what-if" : cmdFrom;
            if (!key.equals("swiotlb") && base.iommu() == null) {
                from += " (no effect: " + base.name() + " has no IOMMU)";
            }
            src.add(new Source(key, v, from));
        }

        // RAM
        List<PlatformProfile.Range> ram = base.ram();
        List<PlatformProfile.Range> reserved = base.reserved();
        List<PlatformProfile.Range> mmio = base.mmio();
        if (iomem != null) {
            ram = MachineFiles.iomemRam(
                    iomem.name(), iomem.text(), base.pageSize().bytes());
            reserved = keepInside(base.reserved(), ram);
            mmio = keepOutside(base.mmio(), ram);
            src.add(new Source("RAM", describe(ram), iomem.name()));
            if (reserved.size() < base.reserved().size()) {
                src.add(new Source(
                        "reserved",
                        (base.reserved().size() - reserved.size()) + " profile range(s) dropped",
                        "outside the RAM of " + iomem.name()));
            }
        } else {
            src.add(new Source("RAM", describe(ram), base.file()));
        }

        // CPUs and the log's swiotlb lines
        MachineFiles.Dmesg log = dmesg == null ? null : MachineFiles.dmesg(dmesg.name(), dmesg.text());
        int cpus = base.cpus();
        int possible = base.possibleCpus();
        if (log != null && log.cpus() > 0) {
            cpus = log.cpus();
            possible = Math.max(cpus, log.areas() > 0 ? Math.min(possible, log.areas()) : cpus);
            src.add(new Source("CPUs", Integer.toString(cpus), dmesg.name() + ":" + log.cpusLine()));
        } else {
            src.add(new Source("CPUs", Integer.toString(cpus), base.file()));
        }

        // Devices
        List<PlatformProfile.DeviceSpec> devs = new ArrayList<>(base.devices());
        if (devices != null) {
            for (MachineFiles.DeviceFact f : MachineFiles.devices(devices.name(), devices.text())) {
                if (f.driver().isEmpty()) {
                    continue; // no driver, no DMA
                }
                PlatformProfile.DeviceSpec old = base.device(f.name());
                String where = devices.name() + ":" + f.line();
                PlatformProfile.DeviceSpec d = old == null ? newDevice(f) : withFacts(old, f);
                if (old == null) {
                    devs.add(d);
                } else {
                    devs.set(devs.indexOf(old), d);
                }
                src.add(new Source("device " + f.name(), describe(d), where));
            }
        }
        for (PlatformProfile.DeviceSpec d : devs) {
            if (base.device(d.name()) == d) {
                src.add(new Source("device " + d.name(), describe(d), base.file()));
            }
        }

        if (trace != null && minAlignFromTrace && version.has(Feature.SWIOTLB_MIN_ALIGN)) {
            inferMinAlign(trace, base.pageSize().shift(), devs, src);
        }

        PlatformProfile refined = base.refined(ram, reserved, mmio, cpus, possible, devs);
        if (base.iommu() != null) {
            refined = refined.withIommu(refineIommu(base, log, dmesg, src));
            Machine.IommuMode mode = Machine.iommuMode(refined.iommu(), kc);
            src.add(new Source(
                    "iommu",
                    refined.iommu().kind() + " " + (mode == null ? "off" : mode.label())
                            + (mode != null && mode.forcedac() ? ", forcedac" : ""),
                    "the command line over " + base.file() + "'s default ("
                            + refined.iommu().defaultDomain() + ")"));
            src.add(new Source(
                    "iommu groups", refined.iommu().groups().size() + " with their reserved regions", base.file()));
        }
        Machine.BootOptions opts = Machine.BootOptions.DEFAULT.withCmdline(cmd + " " + whatIf);
        boolean whatIfPool = KernelCmdline.parse(whatIf).get("swiotlb") != null;
        Machine probe = Machine.boot(refined, version, opts);
        SwiotlbBoot.Result g = probe.swiotlbGeometry();

        if (log != null && log.swiotlbStart() >= 0 && !whatIfPool) {
            long nslabs = log.swiotlbNslabs();
            int nareas = log.areas() > 0 ? log.areas() : g.nareas();
            if (g.nslabs() != nslabs || g.nareas() != nareas) {
                String force = kc.get("swiotlb") != null && kc.get("swiotlb").contains("force") ? ",force" : "";
                String param = "swiotlb=" + nslabs + "," + nareas + force;
                src.add(new Source(
                        "swiotlb geometry",
                        nslabs + " slots, " + nareas + " areas",
                        dmesg.name() + ":" + log.swiotlbLine() + " (the model's sizing gave " + g.nslabs() + " slots, "
                                + g.nareas() + " areas; booted with " + param + ")"));
                opts = opts.withCmdline(opts.extraCmdline() + " " + param);
            } else {
                src.add(new Source(
                        "swiotlb geometry",
                        nslabs + " slots, " + nareas + " areas",
                        dmesg.name() + ":" + log.swiotlbLine() + " (the model's sizing agrees)"));
            }
            opts = opts.withSwiotlbBase(log.swiotlbStart());
            src.add(new Source("swiotlb base", Bits.hex0x(log.swiotlbStart()), dmesg.name() + ":" + log.swiotlbLine()));
        } else if (g.nslabs() > 0) {
            src.add(new Source(
                    "swiotlb geometry",
                    g.nslabs() + " slots, " + g.nareas() + " areas",
                    whatIfPool ? "what-if, the model's sizing rules" : "the model's sizing rules (not in the log)"));
            long derived = -1;
            int line = 0;
            if (trace != null && !whatIfPool) {
                long[] found = firstBounceBase(
                        trace, g.nareas(), g.nslabs(), base.pageSize().bytes());
                derived = found[0];
                line = (int) found[1];
            }
            if (derived >= 0) {
                opts = opts.withSwiotlbBase(derived);
                src.add(new Source(
                        "swiotlb base",
                        Bits.hex0x(derived),
                        "trace line " + line + ", first bounced mapping (pool-base rule)"));
            } else {
                src.add(new Source(
                        "swiotlb base",
                        Bits.hex0x(g.base()),
                        "the model's memblock placement on the profile's memory"));
            }
        } else {
            src.add(new Source("swiotlb", "no pool", "the model's boot rules for this machine"));
        }
        return new ReplaySetup(refined, version, opts, src); // a machine that cannot boot says why at boot()
    }

    /**
     * validated-swiotlb §2: the pool base from the first {@code swiotlb_bounced} line and the map line that reports
     * its address (same CPU, same phys).
     *
     * @return {base, line} or {-1, 0}
     */
    static long[] firstBounceBase(Supplier<FtraceParser> open, int nareas, long nslabs, long pageSize) {
        try (FtraceParser p = open.get()) {
            TraceRecord bounce = null;
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                if (bounce == null) {
                    if (r.event() instanceof TraceEvent.SwiotlbBounced) {
                        bounce = r;
                    }
                    continue;
                }
                if (r.cpu() != bounce.cpu()) {
                    continue;
                }
                long devAddr = ((TraceEvent.SwiotlbBounced) bounce.event()).devAddr();
                long dma = -1;
                if (r.event() instanceof TraceEvent.Map m && m.phys() == devAddr) {
                    dma = m.dmaAddr();
                } else if (r.event() instanceof TraceEvent.MapSg m
                        && m.phys().length > 0
                        && m.phys()[0] == devAddr
                        && m.dmaAddrs().length > 0) {
                    dma = m.dmaAddrs()[0];
                }
                if (dma == Bits.U64_MAX) {
                    bounce = null; // the first bounce failed: it says nothing about the base; try the next
                } else if (dma >= 0) {
                    return new long[] {PoolBase.derive(dma, bounce.cpu(), nareas, nslabs, pageSize), r.line()};
                }
            }
        }
        return new long[] {-1, 0};
    }

    /** How many trace records the min_align scan reads at most (it stops earlier at the end of the trace). */
    static final int MIN_ALIGN_SCAN_RECORDS = 1 << 20;

    /**
     * What one device's bounced mappings say about its {@code min_align_mask}: swiotlb (5.12+) places a bounce so
     * that the bounce address keeps every bit of the buffer's address the mask covers, and without a mask a bounce of
     * a single mapping starts at its slot (the low 11 bits zero; a page-sized or larger one on its page). So for each
     * bounced mapping, the low bits in which its DMA address and its buffer's physical address agree bound the mask
     * from above ({@code agree}: the fewest such bits over all), and a set buffer bit below that bound, kept by the
     * bounce, proves the mask covers it ({@code proof}); a set buffer bit that the bounce did not keep ({@code
     * lost}) shows no mask covers it.
     *
     * @param agree the fewest low bits in which a bounced mapping's DMA and physical addresses agree
     * @param lowestSetBit the lowest set bit of any bounced buffer's physical address (64 if none)
     * @param lostLine the trace line of a bounced mapping that lost a set offset bit, 0 if none
     */
    record MinAlignEvidence(
            String device, int maps, int agree, int lowestSetBit, int lostLine, int firstLine, long dmaMask) {
        /**
         * The inferred mask: all ones below {@code agree} (at most a page's offset bits) when a kept bit proves
         * one; 0 when the mappings lost an offset bit and kept none; -1 when they leave it open (every buffer
         * aligned beyond what its bounce kept).
         */
        /** This device's evidence followed by {@code later}'s (same device), as one. */
        MinAlignEvidence and(MinAlignEvidence later) {
            return new MinAlignEvidence(
                    device,
                    maps + later.maps,
                    Math.min(agree, later.agree),
                    Math.min(lowestSetBit, later.lowestSetBit),
                    lostLine > 0 ? lostLine : later.lostLine,
                    firstLine,
                    dmaMask);
        }

        long mask(int pageShift) {
            if (lowestSetBit < agree) {
                return (1L << Math.min(agree, pageShift)) - 1;
            }
            return lostLine > 0 ? 0 : -1;
        }
    }

    /**
     * The per-device {@code min_align_mask} the trace's bounced mappings show (a {@code swiotlb_bounced} line and
     * the map of the same buffer that follows it on the same CPU), over the first {@link #MIN_ALIGN_SCAN_RECORDS}
     * records. A general rule, not a table: the evidence is the one {@link MinAlignEvidence} describes.
     */
    static Map<String, MinAlignEvidence> scanBouncedMaps(Supplier<FtraceParser> open) {
        Map<String, MinAlignEvidence> out = new TreeMap<>();
        Map<Integer, List<TraceRecord>> pending = new HashMap<>();
        try (FtraceParser p = open.get()) {
            int n = 0;
            for (TraceRecord r = p.next(); r != null && n < MIN_ALIGN_SCAN_RECORDS; r = p.next(), n++) {
                TraceEvent e = r.event();
                if (e instanceof TraceEvent.SwiotlbBounced) {
                    pending.computeIfAbsent(r.cpu(), c -> new ArrayList<>()).add(r);
                    continue;
                }
                List<TraceRecord> bounces = pending.get(r.cpu());
                if (bounces == null || bounces.isEmpty()) {
                    continue;
                }
                if (e instanceof TraceEvent.Map m && !m.resource()) {
                    observe(out, bounces, r, m.device(), m.phys(), m.dmaAddr());
                    bounces.clear();
                } else if (e instanceof TraceEvent.MapSg m) {
                    int n2 = m.truncated() ? 0 : Math.min(m.phys().length, m.dmaAddrs().length);
                    if (m.nents() == m.ents()) { // one segment per buffer, as dma-direct maps them
                        for (int i = 0; i < n2; i++) {
                            observe(out, bounces, r, m.device(), m.phys()[i], m.dmaAddrs()[i]);
                        }
                    }
                    bounces.clear();
                }
            }
        }
        return out;
    }

    /** Records one map as a bounced mapping of {@code device} if a pending bounce announced its buffer. */
    private static void observe(
            Map<String, MinAlignEvidence> out,
            List<TraceRecord> bounces,
            TraceRecord r,
            String device,
            long phys,
            long dma) {
        if (dma == Bits.U64_MAX || dma == phys) {
            return; // failed, or not bounced after all
        }
        TraceEvent.SwiotlbBounced b = null;
        for (TraceRecord br : bounces) {
            TraceEvent.SwiotlbBounced sb = (TraceEvent.SwiotlbBounced) br.event();
            if (sb.devAddr() == phys && device.equals(sb.device())) {
                b = sb;
                break;
            }
        }
        if (b == null) {
            return;
        }
        int agree = Long.numberOfTrailingZeros(dma ^ phys);
        boolean lost = agree < 64 && ((phys >>> agree) & 1) == 1;
        out.merge(
                device,
                new MinAlignEvidence(
                        device, 1, agree, Long.numberOfTrailingZeros(phys), lost ? r.line() : 0, r.line(), b.dmaMask()),
                MinAlignEvidence::and);
    }

    /**
     * Sets each device's {@code min_align_mask} where the trace's bounced mappings decide it (see {@link
     * MinAlignEvidence}); the trace wins over the driver's known value, and says so. A device only the trace names
     * is added when the trace shows it has a mask (else the replay adds it as it meets it, as before).
     */
    private static void inferMinAlign(
            Supplier<FtraceParser> trace, int pageShift, List<PlatformProfile.DeviceSpec> devs, List<Source> src) {
        for (MinAlignEvidence ev : scanBouncedMaps(trace).values()) {
            long mask = ev.mask(pageShift);
            if (mask < 0) {
                continue;
            }
            String why = ev.maps() == 1
                    ? "1 bounced buffer (line " + ev.firstLine() + ")" + (mask > 0 ? " kept its" : " lost its offset")
                    : String.format(
                                    Locale.ROOT,
                                    "%,d bounced buffers (the first at line %d)",
                                    ev.maps(),
                                    ev.firstLine())
                            + (mask > 0 ? " kept their" : "; the one at line " + ev.lostLine() + " lost its offset");
            if (mask > 0) {
                why += " low " + Long.bitCount(mask) + " address bits";
            }
            int at = -1;
            for (int i = 0; i < devs.size(); i++) {
                if (devs.get(i).name().equals(ev.device())) {
                    at = i;
                }
            }
            if (at < 0) {
                if (mask == 0) {
                    continue;
                }
                PlatformProfile.DeviceSpec d =
                        withMinAlign(inferredDevice(ev.device(), ev.dmaMask() > 0 ? ev.dmaMask() : Bits.U64_MAX), mask);
                devs.add(d);
                src.add(new Source("device " + d.name(), describe(d), "trace: " + why));
                continue;
            }
            PlatformProfile.DeviceSpec d = devs.get(at);
            String known = "; " + driverOrProfile(d) + " gives "
                    + (d.minAlignMask() == 0 ? "none" : Bits.hex0x(d.minAlignMask()))
                    + (d.minAlignMask() == mask ? "" : ", overridden");
            devs.set(at, withMinAlign(d, mask));
            src.add(new Source(
                    "min_align_mask " + d.name(), mask == 0 ? "none" : Bits.hex0x(mask), "trace: " + why + known));
        }
    }

    private static String driverOrProfile(PlatformProfile.DeviceSpec d) {
        return d.driver() == null || d.driver().isEmpty() ? "the profile" : "the driver " + d.driver();
    }

    private static PlatformProfile.DeviceSpec withMinAlign(PlatformProfile.DeviceSpec d, long mask) {
        return new PlatformProfile.DeviceSpec(
                d.name(),
                d.bus(),
                d.driver(),
                d.dmaMask(),
                d.coherentDmaMask(),
                d.coherent(),
                d.busDmaLimit(),
                d.dmaRanges(),
                d.maxSegmentSize(),
                d.segmentBoundary(),
                mask,
                d.coherentPool(),
                d.hardwareAddressBits(),
                d.pciId(),
                d.description());
    }

    private static List<PlatformProfile.Range> keepInside(
            List<PlatformProfile.Range> ranges, List<PlatformProfile.Range> ram) {
        List<PlatformProfile.Range> out = new ArrayList<>();
        for (PlatformProfile.Range r : ranges) {
            if (ram.stream().anyMatch(x -> r.start() >= x.start() && r.end() <= x.end())) {
                out.add(r);
            }
        }
        return out;
    }

    private static List<PlatformProfile.Range> keepOutside(
            List<PlatformProfile.Range> ranges, List<PlatformProfile.Range> ram) {
        List<PlatformProfile.Range> out = new ArrayList<>();
        for (PlatformProfile.Range r : ranges) {
            if (ram.stream().noneMatch(x -> r.start() < x.end() && x.start() < r.end())) {
                out.add(r);
            }
        }
        return out;
    }

    private static String describe(List<PlatformProfile.Range> ram) {
        StringBuilder sb = new StringBuilder();
        long total = 0;
        for (PlatformProfile.Range r : ram) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(Bits.hex0x(r.start())).append('-').append(Bits.hex0x(r.end() - 1));
            total += r.size();
        }
        return sb.append(" (").append(total >>> 20).append(" MiB)").toString();
    }

    static String describe(PlatformProfile.DeviceSpec d) {
        StringBuilder sb = new StringBuilder();
        sb.append(d.driver() == null || d.driver().isEmpty() ? "no driver" : d.driver());
        sb.append(", ").append(Bits.maskWidth(d.dmaMask())).append("-bit mask");
        if (d.minAlignMask() != 0) {
            sb.append(", min_align_mask ").append(Bits.hex0x(d.minAlignMask()));
        }
        return sb.toString();
    }

    /**
     * The {@code min_align_mask} a driver sets at probe: nvme-pci calls {@code dma_set_min_align_mask(dev,
     * NVME_CTRL_PAGE_SIZE - 1)}; the other drivers of these machines (virtio-pci, ahci, e1000, e1000e) set none.
     */
    static long driverMinAlignMask(String driver) {
        return "nvme".equals(driver) ? 0xfffL : 0;
    }

    private static PlatformProfile.DeviceSpec newDevice(MachineFiles.DeviceFact f) {
        long mask = Bits.dmaBitMask(f.maskBits());
        return new PlatformProfile.DeviceSpec(
                f.name(),
                BusType.PCI,
                f.driver(),
                mask,
                Bits.dmaBitMask(f.coherentMaskBits()),
                null,
                0,
                List.of(),
                "nvme".equals(f.driver()) ? 0xffffffffL : 0,
                0,
                driverMinAlignMask(f.driver()),
                null,
                f.maskBits(),
                "",
                "from the device list");
    }

    private static PlatformProfile.DeviceSpec withFacts(PlatformProfile.DeviceSpec d, MachineFiles.DeviceFact f) {
        long minAlign = d.minAlignMask() != 0 ? d.minAlignMask() : driverMinAlignMask(f.driver());
        return new PlatformProfile.DeviceSpec(
                d.name(),
                d.bus(),
                f.driver(),
                Bits.dmaBitMask(f.maskBits()),
                Bits.dmaBitMask(f.coherentMaskBits()),
                d.coherent(),
                d.busDmaLimit(),
                d.dmaRanges(),
                d.maxSegmentSize(),
                d.segmentBoundary(),
                minAlign,
                d.coherentPool(),
                Math.max(d.hardwareAddressBits(), f.maskBits()),
                d.pciId(),
                d.description());
    }

    /** A device the trace names that no input describes, as a hot-plugged PCI function or platform device. */
    static PlatformProfile.DeviceSpec inferredDevice(String name, long dmaMask) {
        boolean pci = name.matches("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
        return new PlatformProfile.DeviceSpec(
                name,
                pci ? BusType.PCI : BusType.PLATFORM,
                "",
                dmaMask,
                dmaMask,
                null,
                0,
                List.of(),
                0,
                0,
                0,
                null,
                Bits.maskWidth(dmaMask),
                "",
                "seen in the trace");
    }
}
