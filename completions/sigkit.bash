# bash completion for sigkit(1)
# Signal names come from `sigkit names`, so they match this system.

_sigkit_signals()
{
    sigkit names 2>/dev/null | awk 'NR > 1 { sub(/^SIG/, "", $2); print $2 }'
}

_sigkit_pids()
{
    local d
    for d in /proc/[0-9]*; do printf '%s\n' "${d#/proc/}"; done
}

_sigkit()
{
    local cur prev cmd words_before=0 i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "list names send wait trace run --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    # positional words already typed after the command (options skipped)
    for ((i = 2; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --thread|--value|--timeout|--then|--count|--ready-fd|--signal|--from|--duration) ((i++)) ;;
            -?*) ;;
            *) ((words_before++)) ;;
        esac
    done

    case $cmd in
    list)
        case $prev in
            --thread) COMPREPLY=($(compgen -W "$(ls /proc/"${COMP_WORDS[2]}"/task 2>/dev/null)" -- "$cur")); return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--thread --json --help" -- "$cur"))
        elif [ "$words_before" -eq 0 ]; then
            COMPREPLY=($(compgen -W "$(_sigkit_pids)" -- "$cur"))
        fi
        ;;
    names)
        COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
        ;;
    send)
        case $prev in
            --then) COMPREPLY=($(compgen -W "$(_sigkit_signals)" -- "${cur^^}")); return ;;
            --value|--timeout) return ;;
        esac
        if [[ $cur == -* && $cur != -[0-9]* ]]; then
            COMPREPLY=($(compgen -W "--value --timeout --then --group --all --quiet --help" -- "$cur"))
        elif [ "$words_before" -eq 0 ]; then
            COMPREPLY=($(compgen -W "$(_sigkit_signals) 0" -- "${cur^^}"))
        else
            COMPREPLY=($(compgen -W "$(_sigkit_pids)" -- "$cur"))
        fi
        ;;
    wait)
        case $prev in
            --timeout|--count|--ready-fd) return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--timeout --count --json --ready-fd --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_sigkit_signals)" -- "${cur^^}"))
        fi
        ;;
    trace)
        case $prev in
            --signal) COMPREPLY=($(compgen -W "$(_sigkit_signals)" -- "${cur^^}")); return ;;
            --from) COMPREPLY=($(compgen -W "$(_sigkit_pids)" -- "$cur")); return ;;
            --duration|--ready-fd) return ;;
        esac
        # after "--" the words are a command's
        for ((i = 2; i < COMP_CWORD; i++)); do
            if [ "${COMP_WORDS[i]}" = "--" ]; then
                COMPREPLY=($(compgen -c -- "$cur"))
                return
            fi
        done
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--signal --from --duration --json --ready-fd --help --" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_sigkit_pids)" -- "$cur"))
        fi
        ;;
    run)
        COMPREPLY=($(compgen -W "-w --workers --listen --graceful-timeout --ready-timeout --init -g --pidfile --notify -q --help --" -- "$cur"))
        ;;
    esac
}
complete -F _sigkit sigkit
