# fish completion for credential-oauth (installed by install.sh into
# $PREFIX/share/fish/vendor_completions.d).

set -l commands token login logout init status doctor configure unconfigure help kubernetes goauth headers mcp get store erase
complete -c credential-oauth -f
complete -c credential-oauth -s v -l verbose -d 'diagnostics on stderr'
complete -c credential-oauth -s h -l help -d 'help'
complete -c credential-oauth -s V -l version -d 'version'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a token -d 'print the access token for a URL'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a login -d 'run the grant now'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a logout -d 'forget and revoke the cached token'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a init -d 'add a provider and log in'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a status -d 'providers and cached tokens'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a doctor -d 'check the set-up'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a configure -d 'add this helper to git and docker config'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a unconfigure -d 'remove it again'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a help -d "a command's help"
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a kubernetes -d 'kubectl exec credential plugin'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a goauth -d 'Go GOAUTH command'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a headers -d 'headers for an MCP server, as JSON'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a mcp -d 'stdio bridge to an MCP server'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a get -d 'git credential protocol'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a store -d 'git credential protocol'
complete -c credential-oauth -n "not __fish_seen_subcommand_from $commands" -a erase -d 'git credential protocol'
complete -c credential-oauth -n "__fish_seen_subcommand_from token" -l header -d 'print "Bearer <token>"'
complete -c credential-oauth -n "__fish_seen_subcommand_from headers" -l method -x -a 'GET POST PUT PATCH DELETE' -d 'a DPoP proof for this HTTP method'
complete -c credential-oauth -n "__fish_seen_subcommand_from logout" -l all -d 'every cached token'
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l preset -x -a 'github gitlab bitbucket codeberg gitea forgejo'
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l issuer -x
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l client-id -x
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l client-secret-file -r -F
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l grant -x -a 'authorization_code device_code client_credentials'
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l scope -x
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l name -x
complete -c credential-oauth -n "__fish_seen_subcommand_from init" -l no-login
complete -c credential-oauth -n "__fish_seen_subcommand_from configure unconfigure" -l git
complete -c credential-oauth -n "__fish_seen_subcommand_from configure unconfigure" -l docker
complete -c credential-oauth -n "__fish_seen_subcommand_from help" -a "$commands"
