package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.platform.KernelCmdline;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "platforms",
        mixinStandardHelpOptions = true,
        description = "List the built-in platforms (modelled machines). Any command also takes a profile .yaml.",
        subcommands = PlatformsCommand.Show.class)
final class PlatformsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (json) {
            ArrayNode arr = Json.MAPPER.createArrayNode();
            for (PlatformProfile p : Platforms.all()) {
                ObjectNode o = arr.addObject();
                o.put("name", p.name());
                o.put("arch", p.arch().kernelName());
                o.put("cpus", p.cpus());
                o.put("ram_bytes", p.totalRamBytes());
                o.put("page_size", p.pageSize().bytes());
                o.put("default_kernel", p.defaultKernel().name());
                o.put("description", p.description());
                o.put("xen", xen(p));
                o.put("iommu", iommu(p));
                ArrayNode devs = o.putArray("devices");
                for (PlatformProfile.DeviceSpec d : p.devices()) {
                    devs.add(d.name());
                }
            }
            spec.commandLine().getOut().println(Json.write(arr));
            return Main.EXIT_OK;
        }
        Table t = new Table("NAME", "ARCH", "CPUS", "RAM", "PAGE", "DEVICES", "DMA", "XEN", "IOMMU", "DESCRIPTION");
        for (PlatformProfile p : Platforms.all()) {
            long nonCoherent = p.devices().stream()
                    .filter(d -> d.coherent() != null && !d.coherent())
                    .count();
            String dma =
                    nonCoherent == 0 ? "coherent" : nonCoherent == p.devices().size() ? "non-coherent" : "mixed";
            t.row(
                    p.name(),
                    p.arch().kernelName(),
                    p.cpus(),
                    Units.bytes(p.totalRamBytes()),
                    p.pageSize(),
                    p.devices().size(),
                    dma,
                    xen(p),
                    iommu(p),
                    p.description());
        }
        spec.commandLine().getOut().print(t);
        return Main.EXIT_OK;
    }

    /** "-" for a native machine, else the dom0 kind and Xen release ("dom0 1:1 4.17", "dom0 PV 4.17"). */
    static String xen(PlatformProfile p) {
        if (!p.isXenDom0()) {
            return "-";
        }
        return (p.xen().directMapped() ? "dom0 1:1 " : "dom0 PV ") + p.xen().version();
    }

    /** "-" without an IOMMU, else its kind and mode under the profile's command line ("vt-d strict"). */
    static String iommu(PlatformProfile p) {
        if (p.iommu() == null) {
            return "-";
        }
        String kind = p.iommu().kind().equals("intel-vtd") ? "vt-d" : "smmuv3";
        Machine.IommuMode mode = Machine.iommuMode(p.iommu(), KernelCmdline.parse(p.cmdline()));
        return kind + " " + (mode == null ? "off" : mode.label());
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a platform's profile (YAML).")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "PLATFORM", description = "A built-in name or a profile file.")
        String platform;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            String text = UsageException.lookup(() -> Platforms.text(platform));
            UsageException.lookup(() -> Platforms.load(platform)); // validates, reporting file:line: field:
            spec.commandLine().getOut().print(text);
            return Main.EXIT_OK;
        }
    }
}
