# bash completion for probebench and probebench-vm (installed under both names)
# SPDX-License-Identifier: GPL-2.0-or-later

# Selectors of this machine: PCI addresses, vendor:device ids, drivers and the names of the
# devices below PCI functions (virtio4, nvme0, eth0). PB_COMPLETION_SYSFS stands in for /sys
# in the tests.
_probebench_selectors()
{
	local sys=${PB_COMPLETION_SYSFS:-/sys} d v i
	local -a out=()
	for d in "$sys"/bus/pci/devices/*; do
		[ -e "$d" ] || continue
		out+=("${d##*/}")
		if read -r v <"$d/vendor" 2>/dev/null && read -r i <"$d/device" 2>/dev/null; then
			out+=("${v#0x}:${i#0x}")
		fi
		for v in "$d"/*/uevent "$d"/*/*/uevent; do
			[ -e "$v" ] || continue
			v=${v%/uevent}
			v=${v##*/}
			case $v in *:*) ;; *) out+=("$v") ;; esac
		done
	done
	for d in "$sys"/bus/pci/drivers/*; do
		[ -e "$d" ] && out+=("${d##*/}")
	done
	printf '%s\n' "${out[@]}" | sort -u
}

# Completes probebench's arguments from words[START] on (1, or after probebench-vm's --).
_probebench_args()
{
	local start=$1
	local commands="list check run restore daemon compare placement report"
	local cmd="" i
	for ((i = start; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi

	local opts=""
	case $cmd in
	list) opts="--json --help" ;;
	placement) opts="--json --help" ;;
	check) opts="--json --help" ;;
	restore) opts="--state-dir --timeout --help" ;;
	compare) opts="--json --alpha --min-change --help" ;;
	report) opts="--output --compare --help" ;;
	daemon) opts="--config --log --check-config --help" ;;
	run)
		opts="--iterations --warmup --duration --interval --timeout --entry --module-options --writer-node
		      --writer-cpu --force --dry-run --json --state-dir --max-failures --parallel
		      --no-measure --method --ring-pages --buffer --slab-samples --include-lossy --fifo --progress
		      --help"
		;;
	esac

	case $prev in
	--entry) COMPREPLY=($(compgen -W "bind probe module" -- "$cur")); return ;;
	--method) COMPREPLY=($(compgen -W "auto kprobe tracepoint kmsg" -- "$cur")); return ;;
	--buffer) COMPREPLY=($(compgen -W "auto perf ftrace" -- "$cur")); return ;;
	--log) COMPREPLY=($(compgen -W "auto journal stderr" -- "$cur")); return ;;
	--progress) COMPREPLY=($(compgen -W "auto bar lines none" -- "$cur")); return ;;
	--output | -o) _filedir; return ;;
	--compare) _filedir json; return ;;
	--force)
		COMPREPLY=($(compgen -W "mounted root-disk swap holders net-active vsock console
			boot-vga bridge balloon no-driver" -- "$cur"))
		return
		;;
	--state-dir) _filedir -d; return ;;
	--json | -j | --config | -c)
		# list and check take --json without an argument
		[[ $cmd == list || $cmd == check ]] || { _filedir; return; }
		;;
	--iterations | -n | --warmup | -w | --duration | --interval | --timeout | --writer-node | \
		--writer-cpu | --max-failures | --ring-pages | --fifo | --alpha | --min-change)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $cmd in
	list | run | placement)
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(_probebench_selectors)" -- "$cur"))
		__ltrim_colon_completions "$cur"
		[[ $cur == /* ]] && _filedir
		;;
	compare | report) _filedir json ;;
	esac
}

_probebench()
{
	local cur prev words cword
	# ':' is a word break for readline, and PCI addresses and ids are full of them
	_init_completion -n =: || return
	_probebench_args 1
} && complete -F _probebench probebench

_probebench_vm()
{
	local cur prev words cword
	_init_completion -n =: || return
	local i ab=""
	[[ $cword -gt 1 && ${words[1]} == ab ]] && ab="--a-kernel --b-kernel --a-kernel-package
		--b-kernel-package --a-modules --b-modules --a-append --b-append --boots --compare-args"
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			# after --: probebench's own arguments
			_probebench_args $((i + 1))
			return
		fi
	done
	case $prev in
	--kernel | --add | --console | --qemu | --probebench | --[ab]-kernel | --disk | --journal) _filedir; return ;;
	--modules | --out | --[ab]-modules) _filedir -d; return ;;
	--tcg) COMPREPLY=($(compgen -W "single multi" -- "$cur")); return ;;
	--kernel-package | --[ab]-kernel-package)
		COMPREPLY=($(compgen -W "$(apt-cache pkgnames linux-image- 2>/dev/null)" -- "$cur"))
		return
		;;
	--module | --exec | --env | --append | --timeout | --boot-timeout | --[ab]-append | --boots | \
		--compare-args | --cpus | --nodes | --memory) return ;;
	esac
	if [[ $cword -eq 1 && $cur != -* ]]; then
		COMPREPLY=($(compgen -W "ab" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$ab --kernel --modules --kernel-package --module --out --probebench
		--add --exec --env --append --cpus --nodes --memory --timeout --tcg --boot-timeout --console
		--qemu --no-pvh
		--no-cache --no-hwdb --udevd --systemd --disk --journal --check --verbose --quiet --help --" -- "$cur"))
} && complete -F _probebench_vm probebench-vm
