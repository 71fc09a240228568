# Generate and synthesise (out of context) every IP the files before this one created, so that
# `synth_design` of the top level finds their checkpoints. Runs after all ip_*.tcl.
set dfx_ips [get_ips]
if {[llength $dfx_ips] == 0} {
    error "dfx: no IP was created: the ip_*.tcl files must be sourced before generate.tcl"
}
generate_target all $dfx_ips
foreach dfx_ip $dfx_ips {
    synth_ip $dfx_ip
}
