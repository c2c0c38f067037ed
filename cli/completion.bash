# bash completion for mailvault (installed as
# /usr/share/bash-completion/completions/mailvault).
#
# The words come from the program itself through its hidden helper,
# `mailvault complete commands|subcommands CMD|options CMD|accounts|
# mailboxes ACCOUNT`, so they always match the installed version's help.
# Accounts and mailboxes live in the encrypted store: they are offered
# only when the passphrase comes without a prompt (--passphrase-file or
# --passphrase-fd on the command line being completed, or
# $MAILVAULT_PASSPHRASE_FILE); otherwise only commands and options are.
# The helper never prompts and never prints errors. Words are one per
# line (IFS is a line feed here), so a mailbox name may hold spaces.

_mailvault_words()
{
	# The global options already typed (store, passphrase) go along, so
	# the helper looks at the store the command will use.
	mailvault "${_mailvault_global[@]}" complete "$@" </dev/null 2>/dev/null
}

_mailvault()
{
	local cur prev cmd sub i w IFS=$'\n'
	local -a _mailvault_global=() pos=()

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	# Find the command, the global options before it and the words after.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--store|--passphrase-file|--passphrase-fd)
			_mailvault_global+=("$w" "${COMP_WORDS[i+1]}")
			((i++))
			;;
		--store=*|--passphrase-file=*|--passphrase-fd=*)
			_mailvault_global+=("$w")
			;;
		-*)
			;;
		*)
			if [[ -z $cmd ]]; then cmd=$w; else pos+=("$w"); fi
			;;
		esac
	done

	case $prev in
	--store|--passphrase-file|--password-file|--new-passphrase-file|\
	--ca-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--passphrase-fd|--password-fd|--search|--mailbox|--user|--imap|\
	--pop3|--pin-sha256|--oauth-token-command|--listen|--*-port)
		return
		;;
	--format)
		COMPREPLY=($(compgen -W $'mboxrd\nmboxo\nmaildir\neml\nmbox' \
		    -- "$cur"))
		return
		;;
	--tls)
		COMPREPLY=($(compgen -W $'implicit\nstarttls\nnone' -- "$cur"))
		return
		;;
	--kdf)
		COMPREPLY=($(compgen -W $'moderate\ninteractive\nmin' -- "$cur"))
		return
		;;
	--pop3-delete)
		COMPREPLY=($(compgen -W $'hide\nexpunge' -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_mailvault_words options)" \
			    -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_mailvault_words commands)" \
			    -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_mailvault_words options "$cmd")" \
		    -- "$cur"))
		return
	fi

	# A subcommand first, for the commands that have them.
	sub=$(_mailvault_words subcommands "$cmd")
	if [[ -n $sub && ${#pos[@]} -eq 0 ]]; then
		COMPREPLY=($(compgen -W "$sub" -- "$cur"))
		return
	fi

	case $cmd in
	ls|show|mv|cp|rm|flag|mailbox)
		_mailvault_paths
		;;
	import)
		if ((${#pos[@]} == 0)); then
			COMPREPLY=($(compgen -W "$(_mailvault_words accounts)" \
			    -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	export)
		if ((${#pos[@]} == 0)); then
			COMPREPLY=($(compgen -W "$(_mailvault_words accounts)" \
			    -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	sync)
		COMPREPLY=($(compgen -W "$(_mailvault_words accounts)" \
		    -- "$cur"))
		;;
	account)
		if [[ ${pos[0]} != add && ${pos[0]} != list &&
		    ${#pos[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "$(_mailvault_words accounts)" \
			    -- "$cur"))
		fi
		;;
	esac
}

# ACCOUNT, then ACCOUNT/MAILBOX once a '/' is typed. An account is offered
# with its '/' and no space after, so the mailbox can follow.
_mailvault_paths()
{
	local acct

	if [[ $cur == */* ]]; then
		acct=${cur%%/*}
		COMPREPLY=($(compgen -W "$(_mailvault_words mailboxes "$acct")" \
		    -- "$cur"))
	else
		COMPREPLY=($(compgen -S / -W "$(_mailvault_words accounts)" \
		    -- "$cur"))
		compopt -o nospace 2>/dev/null
	fi
}

complete -F _mailvault mailvault
