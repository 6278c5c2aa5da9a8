# bash completion for credential-oauth (installed by install.sh into
# $PREFIX/share/bash-completion/completions/credential-oauth).

_credential_oauth() {
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands="token login logout init status doctor configure unconfigure help kubernetes goauth headers mcp get store erase"
    # The first word after the program (and its -v) is the command.
    local i command=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -v | --verbose) ;;
        *) command=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [ -z "$command" ]; then
        COMPREPLY=($(compgen -W "$commands -v --verbose -h --help -V --version" -- "$cur"))
        return
    fi
    case $command in
    token) COMPREPLY=($(compgen -W "--header --help" -- "$cur")) ;;
    headers)
        case $prev in
        --method) COMPREPLY=($(compgen -W "GET POST PUT PATCH DELETE" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "--method --help" -- "$cur")) ;;
        esac
        ;;
    logout) COMPREPLY=($(compgen -W "--all --help" -- "$cur")) ;;
    init)
        case $prev in
        --preset) COMPREPLY=($(compgen -W "github gitlab bitbucket codeberg gitea forgejo" -- "$cur")) ;;
        --grant) COMPREPLY=($(compgen -W "authorization_code device_code client_credentials" -- "$cur")) ;;
        --client-secret-file) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "--preset --issuer --client-id --client-secret-file --grant --scope --name --no-login --help" -- "$cur")) ;;
        esac
        ;;
    configure | unconfigure) COMPREPLY=($(compgen -W "--git --docker --help" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
    esac
}
complete -F _credential_oauth credential-oauth
